"""Held states past the decoded limit are kept as their bytes: the same states go out at the next write,
saying the same, and a batch reads the newest state whether it is held decoded, held as bytes or stored."""

from __future__ import annotations

import json
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.agents.runtime.state_cache import BatchStates, StateCache
from tests.unit.agents.runtime.test_held_states import Table  # a table that counts its writes


def encode(state: list[int]) -> bytes:
    return json.dumps(state).encode()


def deferred_cache(table: Table, max_entries: int) -> StateCache[list[int]]:
    cache: StateCache[list[int]] = StateCache(table, json.loads, lambda _: [], max_entries=max_entries)
    cache.deferred = True  # as an agent with a write interval sets it
    return cache


def one_batch(cache: StateCache[list[int]], changes: list[tuple[str, int]], read: Sequence[str] = ()) -> None:
    batch = BatchStates(cache)
    for key in read:
        batch.get(key)
    for key, n in changes:
        batch.get(key).append(n)
        batch.mark_changed(key)
    batch.write(encode)


def test_a_backlog_over_many_keys_keeps_at_most_the_limit_decoded_and_writes_every_state_once() -> None:
    table = Table()
    cache = deferred_cache(table, max_entries=3)
    for i in range(10):
        one_batch(cache, [(f"p{i}", i)])
        decoded, as_bytes = cache.held_count
        assert decoded <= 3 and decoded + as_bytes == i + 1
    assert table.writes == []  # nothing is written before the interval's write
    assert cache.persist() == 10
    assert sorted(table.writes) == sorted(f"p{i}".encode() for i in range(10))
    assert all(json.loads(table[f"p{i}".encode()]) == [i] for i in range(10))
    assert not cache.holding


def test_a_state_held_as_bytes_is_the_one_the_next_batch_reads_and_changes() -> None:
    table = Table()
    table[b"a"] = b"[0]"  # written before
    table.writes.clear()
    cache = deferred_cache(table, max_entries=1)
    one_batch(cache, [("a", 1)])
    one_batch(cache, [("b", 2)])  # a's held state goes to bytes
    assert cache.held_count == (1, 1)
    assert cache.held("a") == [0, 1]  # what the unit page shows: the newest
    one_batch(cache, [], read=["a"])  # read, not changed: still held, as it was
    one_batch(cache, [("a", 3)])  # read from its held bytes and changed again
    cache.persist()
    assert json.loads(table[b"a"]) == [0, 1, 3] and table.writes.count(b"a") == 1
    assert json.loads(table[b"b"]) == [2]


def test_what_a_batch_changed_without_reporting_it_is_kept_whether_held_decoded_or_as_bytes() -> None:
    """A person stage marks a redelivery's place even on a duplicate, which it does not report as a change."""
    written = []
    for max_entries in (0, 1_000):
        table = Table()
        cache = deferred_cache(table, max_entries)
        one_batch(cache, [("a", 1)])
        batch = BatchStates(cache)
        batch.get("a").append(99)  # changed, not marked
        batch.write(encode)
        cache.persist()
        written.append(json.loads(table[b"a"]))
    assert written == [[1, 99], [1, 99]]


def test_a_failed_batch_forgets_the_states_held_as_bytes_too() -> None:
    table = Table()
    table[b"a"] = b"[0]"
    cache = deferred_cache(table, max_entries=0)  # every held state as bytes
    one_batch(cache, [("a", 1)])
    assert cache.held_count == (0, 1)
    cache.discard()  # the agent reads the held records again from its positions
    assert not cache.holding and cache.take("a") == [0]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4), st.lists(st.one_of(
    st.tuples(st.just("batch"), st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 9)), max_size=4),
              st.lists(st.sampled_from("abcdef"), max_size=3)),
    st.tuples(st.just("persist")), st.tuples(st.just("discard"))), max_size=30))
def test_whatever_the_limit_the_table_and_every_read_agree_with_a_cache_that_holds_all_decoded(
        max_entries: int, steps: list[tuple]) -> None:  # type: ignore[type-arg]
    """The limit changes memory only: the same reads, the same writes, the same bytes."""
    tables = Table(), Table()
    caches = deferred_cache(tables[0], max_entries), deferred_cache(tables[1], 1_000)
    for step in steps:
        for cache in caches:
            if step[0] == "batch":
                one_batch(cache, step[1], step[2])
            elif step[0] == "persist":
                cache.persist()
            else:
                cache.discard()
        assert caches[0].held_count[0] <= max_entries
        for key in "abcdef":
            assert caches[0].take(key) == caches[1].take(key)
            assert caches[0].held(key) == caches[1].held(key)
    for cache in caches:
        cache.persist()
    assert dict(tables[0]) == dict(tables[1]) and sorted(tables[0].writes) == sorted(tables[1].writes)

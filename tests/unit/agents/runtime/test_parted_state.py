"""The organisation's states written as deltas (agents/runtime/parted_state.py): read back as written,
by a worker that kept nothing; a worker killed at any point of a write recovers the state before it (or
after it, once the header is out) and, taking the batch again, leaves what an uninterrupted worker leaves:
no segment nobody will delete. A state stored whole by the release before is read and then written as
parts, its chunks gone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streams.agents.runtime import parted_state
from streams.agents.runtime.codec import dumps, loads_dict
from streams.agents.runtime.parted_state import SEGMENT_MARK, PartedCache, parted_header
from streams.agents.runtime.partitioning import partition_of, partition_of_bytes
from streams.agents.runtime.state_cache import CHUNK_MARK, StateCache
from streams.core.org.drift import OrgDrift
from streams.core.org.parts import OrgParts
from streams.core.org.state import OrgState
from tests.unit.core.org.test_parts import CONFIG, batches

KEY = "org/212000-0142"


class Killed(Exception):
    """The worker died."""


class Table(dict):  # type: ignore[type-arg]
    """A table whose worker dies at its `budget`-th write or delete (None: never)."""

    budget: int | None = None
    ops: list[bytes]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._spend(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: bytes) -> None:
        self._spend(key)
        super().__delitem__(key)

    def _spend(self, key: bytes) -> None:
        self.__dict__.setdefault("ops", []).append(key)
        if self.budget is not None:
            if self.budget <= 0:
                raise Killed
            self.budget -= 1


def cache(table: dict[bytes, bytes], partitions: int = 1) -> PartedCache[OrgState]:
    return PartedCache(table, OrgParts(), lambda raw: OrgState.from_dict(loads_dict(raw)), lambda _: OrgState(),
                       partitions=partitions)


def write(c: PartedCache[OrgState], state: OrgState) -> None:
    c.write_state(KEY, state, dumps)


def segments(table: dict[bytes, bytes]) -> set[int]:
    return {int(k.split(SEGMENT_MARK)[1].split(b"\x1f")[0]) for k in table if SEGMENT_MARK in k}


def read(table: dict[bytes, bytes]) -> dict[str, Any]:
    return cache(dict(table)).take(KEY).to_dict()


@pytest.fixture(scope="module")
def history() -> list[Any]:
    """Batches of 10 unit-days (some late), about 150."""
    days = [s for batch in batches(7, 30) for s in batch]
    return [days[i:i + 10] for i in range(0, len(days), 10)]


def run(table: dict[bytes, bytes], batches: list[Any]) -> OrgState:
    """A worker that starts on the table as it is, takes the batches, writes after each."""
    c, drift = cache(table), OrgDrift(CONFIG)
    state = c.take(KEY)
    for batch in batches:
        drift.apply(state, batch)
        write(c, state)
        state = c.take(KEY)
    return state


def test_a_state_is_read_back_as_written_and_its_segments_stay_bounded(
        history: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parted_state, "MAX_DELTAS", 20)
    table: dict[bytes, bytes] = {}
    c, drift, state, bases = cache(table), OrgDrift(CONFIG), OrgState(), 0
    for batch in history:
        drift.apply(state, batch)
        write(c, state)
        header = parted_header(table[KEY.encode()])
        assert header is not None
        bases += header["base"] == header["last"]
        assert read(table) == state.to_dict()
        assert c.take(KEY) is state  # the same worker goes on with its object
        # the segments since the base, and the previous base's until this worker's next write says gone
        assert segments(table) <= set(range(header["from"], header["last"] + 1))
        assert header["last"] - header["from"] <= 2 * 21
    assert bases > 5  # deltas outgrew their base now and then: new bases, the segments before them gone


@pytest.mark.parametrize("at", [3, 50, 93])  # 3 and 93: a new base, the segments before it deleted
def test_a_worker_killed_anywhere_in_a_write_recovers_and_ends_as_one_never_killed(
        history: list[Any], at: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parted_state, "MAX_DELTAS", 20)
    before_table: dict[bytes, bytes] = {}
    before = run(before_table, history[:at]).to_dict()
    probe = Table(before_table)
    probe.budget = 10**6
    after = run(probe, history[at:at + 1]).to_dict()
    writes, header_op = len(probe.ops), probe.ops.index(KEY.encode())
    uninterrupted = dict(before_table)
    live = run(uninterrupted, history[at:])
    header = parted_header(uninterrupted[KEY.encode()])
    assert header is not None and header["base"] > at + 1  # a new base came after the write killed
    assert writes >= 2  # a segment, the header, deletions after a new base
    for budget in range(writes):
        table = Table(before_table)
        table.budget = budget
        with pytest.raises(Killed):
            run(table, history[at:at + 1])
        table.budget = None
        recovered = cache(table).take(KEY).to_dict()  # a new worker
        assert recovered == (before if budget <= header_op else after)
        run(table, history[at:] if recovered == before else history[at + 1:])
        assert read(table) == live.to_dict()
        assert set(table) == set(uninterrupted)  # nothing left behind


@pytest.mark.parametrize("chunked", [False, True])
def test_a_state_stored_whole_by_the_release_before_is_read_and_then_written_as_parts(
        history: list[Any], chunked: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    drift, state = OrgDrift(CONFIG), OrgState()
    for batch in history[:80]:
        drift.apply(state, batch)
    table: dict[bytes, bytes] = {}
    if chunked:  # as the release before wrote a state over its chunk size
        monkeypatch.setattr("streams.agents.runtime.state_cache.CHUNK_BYTES", 2_000)
    StateCache(table, json.loads, lambda _: {}).put(KEY, state, dumps(state))
    assert any(CHUNK_MARK in k for k in table) == chunked
    c = cache(table)
    resumed = c.take(KEY)
    assert resumed.to_dict() == state.to_dict()
    for batch in history[80:90]:
        drift.apply(state, batch)
        drift.apply(resumed, batch)
        write(c, resumed)
        assert read(table) == state.to_dict()
    assert not any(CHUNK_MARK in k for k in table)  # the whole value's chunks went with the first write
    assert "legacy" not in parted_header(table[KEY.encode()])  # type: ignore[operator]


def test_in_a_table_of_several_partitions_a_states_segments_go_to_its_keys_partition(history: list[Any]) -> None:
    table: dict[bytes, bytes] = {}
    c, drift, state = cache(table, partitions=8), OrgDrift(CONFIG), OrgState()
    for batch in history[:30]:
        drift.apply(state, batch)
        write(c, state)
    assert len(segments(table)) > 1
    assert {partition_of_bytes(k, 8) for k in table} == {partition_of(KEY, 8)}
    assert cache(dict(table), partitions=8).take(KEY).to_dict() == state.to_dict()


class _Whole:
    """A toy state of parts (a dict), every part a change each time."""

    def parts(self, state: dict[str, Any]) -> dict[str, Any]:
        return dict(state)

    def changes(self, state: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
        return dict(state), []

    def assemble(self, parts: dict[str, Any]) -> dict[str, Any]:
        return dict(parts)


def test_a_segment_taken_again_smaller_than_the_one_killed_part_way_reads_as_written(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch taken again after a restart may end elsewhere: the segment it writes under the same number
    may have fewer chunks than the one the killed worker left."""
    monkeypatch.setattr(parted_state, "CHUNK_BYTES", 100)
    table = Table()

    def toy() -> PartedCache[dict[str, Any]]:
        return PartedCache(table, _Whole(), json.loads, lambda _: {})

    toy().write_state(KEY, {"a": "x" * 1_000}, dumps)  # the base
    table.budget = 5
    with pytest.raises(Killed):  # a delta of some 11 chunks, killed after 5
        toy().write_state(KEY, {"a": "y" * 1_000}, dumps)
    table.budget = None
    assert toy().take(KEY) == {"a": "x" * 1_000}
    toy().write_state(KEY, {"a": "z" * 150}, dumps)  # the same segment number, 2 chunks
    assert toy().take(KEY) == {"a": "z" * 150}
    assert len([k for k in table if SEGMENT_MARK + b"2\x1f" in k]) == 2


def test_segments_left_by_another_worker_killed_while_deleting_them_are_deleted_later() -> None:
    """A rebalance gives a group to another worker and back: what this worker deleted before says nothing
    of what the other one left."""
    table = Table()
    a = PartedCache(table, _Whole(), json.loads, lambda _: {})
    b = PartedCache(table, _Whole(), json.loads, lambda _: {})
    for n in range(3):  # a base, a delta, a base (the first two segments deleted)
        a.write_state(KEY, {"n": n}, dumps)
    assert segments(table) == {3}
    b.write_state(KEY, {"n": 3}, dumps)  # a delta
    table.budget = 3  # a base: its segment, its header, one deletion, then killed
    with pytest.raises(Killed):
        b.write_state(KEY, {"n": 4}, dumps)
    table.budget = None
    assert segments(table) == {4, 5}
    for n in range(5, 8):
        a.write_state(KEY, {"n": n}, dumps)
    header = parted_header(table[KEY.encode()])
    assert header is not None and header["base"] > 5
    assert segments(table) == set(range(header["base"], header["last"] + 1))
    assert PartedCache(table, _Whole(), json.loads, lambda _: {}).take(KEY) == {"n": 7}

"""A batch writes to its table only the states it changed, once each, after its outputs are out."""

from __future__ import annotations

import json

from streams.agents.runtime.state_cache import CHUNK_BYTES, BatchStates, StateCache


def test_only_changed_states_are_written_and_each_once() -> None:
    table: dict[bytes, bytes] = {b"a": b'{"n": 1}', b"b": b'{"n": 2}'}
    writes: list[bytes] = []

    class Table(dict):  # type: ignore[type-arg]
        def __setitem__(self, key: bytes, value: bytes) -> None:
            writes.append(key)
            super().__setitem__(key, value)

    cache: StateCache[dict[str, int]] = StateCache(Table(table), json.loads, lambda _: {"n": 0})
    batch = BatchStates(cache)
    for key in ("a", "b", "a", "c"):
        state = batch.get(key)
        if key != "b":
            state["n"] += 1
            batch.mark_changed(key)
    assert batch.get("a") is batch.get("a")  # one object per key within the batch
    written = batch.write(lambda s: json.dumps(s).encode())
    assert sorted(writes) == [b"a", b"c"] and written == {"a": {"n": 3}, "c": {"n": 1}}
    assert cache.take("a") == {"n": 3}  # the next batch sees what this one wrote


def test_a_state_larger_than_a_kafka_record_is_written_in_chunks_and_read_back_whole() -> None:
    """The organisation's state grows with its units; one changelog record may not exceed 1 MB."""
    table: dict[bytes, bytes] = {}
    fresh = StateCache(table, json.loads, lambda _: {})  # a restarted worker: nothing decoded yet
    cache: StateCache[dict[str, str]] = StateCache(table, json.loads, lambda _: {})

    def write(value: dict[str, str]) -> None:
        raw = json.dumps(value).encode()
        cache.put("org", value, raw)

    big = {"series": "x" * (3 * CHUNK_BYTES)}
    write(big)
    assert all(len(v) <= CHUNK_BYTES for v in table.values())  # no record over the limit
    assert fresh.take("org") == big
    bigger = {"series": "y" * (5 * CHUNK_BYTES)}
    write(bigger)
    write(big)
    # A worker killed after a new generation's chunks but before its header recovers the previous one.
    header = table[b"org"]
    write(bigger)
    table[b"org"] = header
    assert StateCache(table, json.loads, lambda _: {}).take("org") == big
    # Only the chunks of the last two generations are kept; a small value again leaves none.
    write({"series": "small"})
    assert set(table) == {b"org"} and fresh.take("org") == {"series": "small"}


def test_in_a_table_of_several_partitions_a_large_states_chunks_go_to_its_keys_partition() -> None:
    """The worker that owns a peer group's partition recovers only that partition: its chunks too."""
    from streams.agents.runtime.partitioning import partition_of, partition_of_bytes

    table: dict[bytes, bytes] = {}
    cache: StateCache[dict[str, str]] = StateCache(table, json.loads, lambda _: {}, partitions=8)
    big = {"series": "x" * (3 * CHUNK_BYTES)}
    for key in ("org", "org/212000-0142", "org/212000-1355"):
        cache.put(key, big, json.dumps(big).encode())
        home = partition_of(key, 8)
        chunks = [k for k in table if k.startswith(key.encode() + b"\x1fchunk")]
        assert len(chunks) == 4 and {partition_of_bytes(k, 8) for k in chunks} == {home}
        assert StateCache(table, json.loads, lambda _: {}, partitions=8).take(key) == big
    # One partition (a deployment from before peer groups): chunk keys as that release wrote them.
    one: dict[bytes, bytes] = {}
    StateCache(one, json.loads, lambda _: {}).put("org", big, json.dumps(big).encode())
    assert b"org\x1fchunk\x1f1\x1f0" in one

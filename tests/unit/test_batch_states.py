"""A batch writes to its table only the states it changed, once each, after its outputs are out."""

from __future__ import annotations

import json

from streams.agents.state_cache import BatchStates, StateCache


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

"""Decoded table values kept between batches, so a hot key is not parsed from JSON on every batch.

The table (and its changelog) stays the truth: a cached object is used only while the table still
holds the very bytes object this worker wrote with it. A batch takes its states out of the cache and
puts them back only after writing them, so a batch that fails half-way leaves nothing stale behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

S = TypeVar("S")


class StateCache(Generic[S]):
    def __init__(self, table: Any, decode: Callable[[bytes], S], fresh: Callable[[str], S],
                 max_entries: int = 200_000) -> None:
        self.table, self.decode, self.fresh, self.max_entries = table, decode, fresh, max_entries
        self._entries: dict[str, tuple[bytes, S]] = {}

    def take(self, key: str) -> S:
        raw = self.table.get(key.encode())
        entry = self._entries.pop(key, None)
        if entry is not None and raw is not None and entry[0] is raw:
            return entry[1]
        return self.decode(raw) if raw else self.fresh(key)

    def put(self, key: str, state: S, raw: bytes) -> None:
        """Write the new value (to the table and its changelog) and keep the object."""
        self.table[key.encode()] = raw
        self._remember(key, raw, state)

    def keep(self, key: str, state: S) -> None:
        """The batch did not change this state: keep the object, write nothing."""
        raw = self.table.get(key.encode())
        if raw is not None:
            self._remember(key, raw, state)

    def _remember(self, key: str, raw: bytes, state: S) -> None:
        if self.max_entries <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (raw, state)


class BatchStates(Generic[S]):
    """The states one batch works on: taken from the cache once per key, marked when changed, and
    written back (changed ones to the table, the rest kept) only after the batch's outputs are
    acknowledged."""

    def __init__(self, cache: StateCache[S]) -> None:
        self.cache = cache
        self.states: dict[str, S] = {}
        self.changed: set[str] = set()

    def get(self, key: str) -> S:
        state = self.states.get(key)
        if state is None:
            state = self.states[key] = self.cache.take(key)
        return state

    def mark_changed(self, key: str) -> None:
        self.changed.add(key)

    def write(self, encode: Callable[[S], bytes]) -> dict[str, S]:
        """Write the changed states; returns them."""
        written: dict[str, S] = {}
        for key, state in self.states.items():
            if key in self.changed:
                self.cache.put(key, state, encode(state))
                written[key] = state
            else:
                self.cache.keep(key, state)
        return written

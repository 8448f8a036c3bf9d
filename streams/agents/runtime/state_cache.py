"""Decoded table values kept between batches, so a hot key is not parsed from JSON on every batch, and
the states changed since the last write, so a hot key is written once per write interval, not per batch.

The table (and its changelog) stays the truth: a cached object is used only while the table still
holds the very bytes object this worker wrote with it. A batch takes its states out of the cache and
puts them back only after writing them, so a batch that fails half-way leaves nothing stale behind.
A state changed but not yet written (`stage`, in a cache whose agent writes at an interval) is the one
exception: the agent that owns the cache discards every such state when a batch fails
(`agents/runtime/stage_agent.py`), and reads their records again from its positions.

**Held states and memory.** The states kept decoded, held ones and cached ones together, are at most
`max_entries`: past it, the cache forgets the oldest decoded copy of an unchanged state first, then keeps
the oldest held state as its encoded bytes (what its write would send anyway, ~0.2 KB against ~2 KB
decoded for a person). A backlog over many persons then holds a write interval's states in about a tenth
of the memory, and a person met again in the interval is decoded from those bytes. Which states go out
at the next write, and what they say, does not change.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from itertools import islice
from typing import Any, Generic, TypeVar

from streams.agents.runtime.partitioning import partition_of, partition_of_bytes

S = TypeVar("S")

# A value over this many bytes is written as chunks: a Kafka record (a changelog message) may not exceed
# the producer's max_request_size (1 MB), and the organisation's state, one value, grows with the units.
CHUNK_BYTES = 512 * 1024
CHUNKED = b"\x00chunked:"  # a chunked value's header: this, then {"gen": g, "n": chunks} as JSON


class StateCache(Generic[S]):
    #: Held states past `max_entries` may be kept as their whole encoding (a cache that writes states
    #: some other way, as parts, keeps every held state decoded).
    holds_encoded = True

    def __init__(self, table: Any, decode: Callable[[bytes], S], fresh: Callable[[str], S],
                 max_entries: int = 200_000, partitions: int = 1) -> None:
        """`partitions`: the table's; a large value's chunks go to the partition of its key."""
        self.table, self.decode, self.fresh, self.max_entries = table, decode, fresh, max_entries
        self.partitions = partitions
        # Oldest first, in OrderedDicts: the oldest goes in O(1) (a plain dict's first key, after many
        # deletions at its front, is a scan: ~30 µs at 50,000 entries).
        self._entries: OrderedDict[str, tuple[bytes, S]] = OrderedDict()
        # Set by the agent that owns the cache when it writes states at an interval: a changed state is
        # then held here until the agent's next `persist` (its positions do not move before that).
        self.deferred = False
        self._pending: OrderedDict[str, S] = OrderedDict()  # held decoded, oldest first
        self._pending_raw: dict[str, bytes] = {}  # held as their encoded bytes (past max_entries)
        self._encode: Callable[[S], bytes] | None = None

    def take(self, key: str) -> S:
        held = self._pending.get(key)
        if held is not None:  # changed by a batch before, not written yet: the newest there is
            self._entries.pop(key, None)
            return held
        held_raw = self._pending_raw.get(key)
        if held_raw is not None:  # held as bytes: stays held until the batch stages the state again
            return self.decode(held_raw)
        raw = self.table.get(key.encode())
        entry = self._entries.pop(key, None)
        if entry is not None and raw is not None and entry[0] is raw:
            return entry[1]
        return self._decoded(key, raw) if raw else self.fresh(key)

    def _decoded(self, key: str, raw: bytes) -> S:
        return self.decode(self._assembled(key, raw))

    def stored_values(self) -> list[tuple[str, bytes]]:
        """Every key and its value as written (chunks assembled): immutable bytes, to decode elsewhere."""
        out = []
        for k in list(self.table.keys()):
            raw = self.table.get(k)
            if raw is not None and CHUNK_MARK not in k:
                key = k.decode()
                out.append((key, self._assembled(key, raw)))
        return out

    def put(self, key: str, state: S | None, raw: bytes) -> None:
        """Write the new value (to the table and its changelog) and keep the object (if given)."""
        if len(raw) > CHUNK_BYTES:
            stored = self._write_chunks(key, raw)
        else:
            stored = raw
            self._drop_chunks(key, self._header(self.table.get(key.encode())))
        self.table[key.encode()] = stored
        if state is not None:
            self._remember(key, stored, state)

    # A large value goes out as chunks under keys of their own, a new generation each time, then the
    # header naming it: a worker that dies between the two recovers the previous header, whose chunks
    # are still there. The generation before the previous one is deleted once a new header is written.

    def _write_chunks(self, key: str, raw: bytes) -> bytes:
        old = self._header(self.table.get(key.encode()))
        gen = old["gen"] + 1 if old else 1
        n = -(-len(raw) // CHUNK_BYTES)
        for i in range(n):
            self.table[_chunk_key(self.partitions, key, gen, i)] = raw[i * CHUNK_BYTES:(i + 1) * CHUNK_BYTES]
        self._drop(key, gen, n)  # what a worker killed before its header may have left of this generation
        if old:
            self._drop(key, old["gen"] - 1)
        return CHUNKED + json.dumps({"gen": gen, "n": n}).encode()

    def _drop_chunks(self, key: str, header: dict[str, int] | None) -> None:
        """A small value replaces a chunked one: its chunks, the previous ones and any orphans go."""
        if header:
            for gen in (header["gen"] - 1, header["gen"], header["gen"] + 1):
                self._drop(key, gen)

    def _drop(self, key: str, gen: int, first: int = 0) -> None:
        i = first
        while self.table.get(_chunk_key(self.partitions, key, gen, i)) is not None:
            del self.table[_chunk_key(self.partitions, key, gen, i)]
            i += 1

    def _assembled(self, key: str, raw: bytes) -> bytes:
        header = self._header(raw)
        if header is None:
            return raw
        return b"".join(self.table[_chunk_key(self.partitions, key, header["gen"], i)] for i in range(header["n"]))

    @staticmethod
    def _header(raw: bytes | None) -> dict[str, int] | None:
        if raw is None or not raw.startswith(CHUNKED):
            return None
        return json.loads(raw[len(CHUNKED):])  # type: ignore[no-any-return]

    def stage(self, key: str, state: S, encode: Callable[[S], bytes]) -> None:
        """A batch changed this state: written now, or, in a deferred cache, at the next `persist`."""
        if not self.deferred:
            self.write_state(key, state, encode)
            return
        self._pending[key] = state
        self._pending.move_to_end(key)  # the newest held
        self._pending_raw.pop(key, None)
        self._encode = encode
        self._entries.pop(key, None)  # the object is not what the table's bytes say until written
        while len(self._pending) + len(self._entries) > self.max_entries:
            if self._entries:
                self._entries.popitem(last=False)
            elif not self.holds_encoded:
                break
            else:  # the oldest held state: kept as the bytes its write will send
                oldest, held = self._pending.popitem(last=False)
                self._pending_raw[oldest] = encode(held)

    def persist(self, limit: int | None = None, max_bytes: int | None = None) -> int:
        """Write the states changed since the last write, held longest first: every one, or until `limit`
        states or `max_bytes` of their encodings are written (the rest stay held, for the next call);
        returns how many were written. (A cache that writes parts counts states only.)"""
        written = size = 0
        # first those kept as bytes (their keys taken at once: a plain dict's first key, after many
        # deletions at its front, is a scan)
        for key in list(self._pending_raw if limit is None else islice(self._pending_raw, limit)):
            if max_bytes is not None and size >= max_bytes:
                return written
            raw = self._pending_raw.pop(key)
            self.put(key, None, raw)
            written, size = written + 1, size + len(raw)
        if not self._pending:
            return written
        encode = self._encode
        assert encode is not None  # set by the first stage()

        def counted(state: S) -> bytes:
            nonlocal size
            raw = encode(state)
            size += len(raw)
            return raw

        while self._pending and (limit is None or written < limit) and (max_bytes is None or size < max_bytes):
            key, state = self._pending.popitem(last=False)
            self.write_state(key, state, counted)
            written += 1
        return written

    def write_state(self, key: str, state: S, encode: Callable[[S], bytes]) -> None:
        """Write one state to the table: encoded whole (chunked if large)."""
        self.put(key, state, encode(state))

    def held(self, key: str) -> S | None:
        """The state of `key` changed and not yet written, if it is: newer than the table's."""
        held = self._pending.get(key)
        if held is None and key in self._pending_raw:
            return self.decode(self._pending_raw[key])
        return held

    @property
    def holding(self) -> bool:
        """States changed and not yet written."""
        return bool(self._pending or self._pending_raw)

    @property
    def held_count(self) -> tuple[int, int]:
        """States held: decoded, and as bytes."""
        return len(self._pending), len(self._pending_raw)

    def discard(self) -> None:
        """Forget the states not yet written: a failed batch may have changed them half-way; the table
        holds them as they were at the last write."""
        self._pending.clear()
        self._pending_raw.clear()

    def keep(self, key: str, state: S) -> None:
        """The batch did not change this state: keep the object, write nothing."""
        if key in self._pending:
            return
        if key in self._pending_raw:
            # Held as bytes, and this batch worked on a copy decoded from them: a step that changed the
            # state without reporting it would lose what the object held decoded keeps, so the copy's bytes
            # are held now (a safeguard: the persons stage reports even a redelivery's place marked).
            assert self._encode is not None
            self._pending_raw[key] = self._encode(state)
            return
        raw = self.table.get(key.encode())
        if raw is not None:
            self._remember(key, raw, state)

    def _remember(self, key: str, raw: bytes, state: S) -> None:
        if len(self._pending) >= self.max_entries:  # held decoded states come first
            return
        if self._entries and len(self._entries) + len(self._pending) >= self.max_entries:
            self._entries.popitem(last=False)
        self._entries[key] = (raw, state)


CHUNK_MARK = b"\x1fchunk\x1f"  # in every chunk's key, never in a state's


def _chunk_key(partitions: int, key: str, gen: int, i: int) -> bytes:
    """A chunk's key."""
    return salted_key(partitions, key, CHUNK_MARK + f"{gen}\x1f{i}".encode())


@lru_cache(maxsize=1024)
def salted_key(partitions: int, key: str, suffix: bytes) -> bytes:
    """A key of a record that belongs with `key`'s (a chunk, a part): `key` and `suffix`. In a table of
    several partitions it hashes to `key`'s partition (the worker that owns the state recovers it), with a
    salt found as a position key's is."""
    plain = key.encode() + suffix
    if partitions == 1:
        return plain
    home = partition_of(key, partitions)
    for salt in range(1_000_000):
        salted = plain + f"\x1f{salt}".encode()
        if partition_of_bytes(salted, partitions) == home:
            return salted
    raise RuntimeError(f"no chunk key hashes to partition {home} of {partitions}")  # pragma: no cover


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
        """Write the changed states (or hold them, in a deferred cache, for the agent's next write);
        returns them. The batch lets go of its states then: the cache bounds what stays decoded, and a
        batch waits a write interval for its positions."""
        written: dict[str, S] = {}
        for key, state in self.states.items():
            if key in self.changed:
                self.cache.stage(key, state, encode)
                written[key] = state
            else:
                self.cache.keep(key, state)
        self.states, self.changed = {}, set()
        return written

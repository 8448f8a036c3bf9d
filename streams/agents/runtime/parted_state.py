"""A state written as deltas: each write stores the parts the batch changed (core/org/parts.py), not the
whole state, so that what a batch writes does not grow with everything the state holds.

A key's writes are numbered segments, each a record (chunked if large) under a salted key of its own in
the key's partition: a base segment with every part, then deltas (the parts changed, the names of parts
gone). The record under the key itself is a small header, `{"from", "base", "last", "size", "deltas"}`:
the state is the base segment with the deltas up to `last` applied in order. A segment is written before
the header that names it, so a worker killed between the two recovers the previous header, whose segments
are all there; the batch taken again writes the same segment number, over whatever was left of it.
When the deltas since the base outgrow it (or number `MAX_DELTAS`), the next write is a new base and the
segments before it are deleted after its header: written bytes are at most twice the deltas', and the
segments held at most twice the state. `from`: the first segment that may still be stored (deletion
may have been cut short); it moves up once this worker has deleted them. A value stored whole by the
release before (plain, or chunked: `StateCache`) is read as it was; the first write makes it a base,
and its chunks (`legacy`: their generation) go.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from streams.agents.runtime.state_cache import CHUNK_BYTES, StateCache, salted_key

S = TypeVar("S")

PARTED = b"\x00parted:"  # a header's start: this, then the header as JSON
SEGMENT_MARK = b"\x1fsegment\x1f"  # in every segment record's key, never in a state's
MAX_DELTAS = 1_000

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class Parts(Protocol[S]):
    """How a state is taken apart and made again (for the organisation: core/org/parts.py)."""

    def parts(self, state: S) -> dict[str, Any]: ...

    def changes(self, state: S) -> tuple[dict[str, Any], list[str]] | None: ...

    def assemble(self, parts: dict[str, Any]) -> S: ...


class PartedCache(StateCache[S], Generic[S]):
    holds_encoded = False  # a held state is written as the parts that changed, from the object

    def __init__(self, table: Any, codec: Parts[S], decode: Callable[[bytes], S], fresh: Callable[[str], S],
                 max_entries: int = 200_000, partitions: int = 1) -> None:
        """`decode`: a value stored whole (by the release before)."""
        super().__init__(table, decode, fresh, max_entries, partitions)
        self.codec = codec
        # Per key, the base before which this worker has deleted every segment (the next header says so;
        # another worker may have written the key since, with another base).
        self._swept: dict[str, int] = {}

    def _decoded(self, key: str, raw: bytes) -> S:
        header = parted_header(raw)
        if header is None:
            return super()._decoded(key, raw)
        parts: dict[str, Any] = {}
        for seq in range(header["base"], header["last"] + 1):
            segment = _decoder.decode(self._segment(key, seq))
            for name in segment["gone"]:
                parts.pop(name, None)
            parts.update(segment["set"])
        return self.codec.assemble(parts)

    def write_state(self, key: str, state: S, encode: Callable[[S], bytes]) -> None:
        """Write the state's changes (`encode`, the whole state's encoding, is not used)."""
        old = self.table.get(key.encode())
        header = parted_header(old)
        changes = self.codec.changes(state)
        seq = header["last"] + 1 if header else 1
        blob: bytes | None = None
        if header is not None and changes is not None:
            blob = _encoder.encode({"set": changes[0], "gone": changes[1]})
            if header["deltas"] + len(blob) <= header["size"] and seq - header["base"] <= MAX_DELTAS:
                new = header | {"last": seq, "deltas": header["deltas"] + len(blob)}
            else:
                blob = None
        base = blob is None
        if blob is None:
            blob = _encoder.encode({"set": self.codec.parts(state), "gone": []})
            new = {"from": header["from"] if header else seq, "base": seq, "last": seq, "size": len(blob),
                   "deltas": 0}
            whole = self._header(old)  # chunked whole, by the release before
            legacy = whole["gen"] if whole else (header or {}).get("legacy")
            if legacy is not None:
                new["legacy"] = legacy
        if header is not None and self._swept.get(key) == header["base"]:  # nothing is left before it
            new["from"] = header["base"]
            new.pop("legacy", None)
        self._write_segment(key, seq, blob)
        stored = PARTED + json.dumps(new).encode()
        self.table[key.encode()] = stored
        if base:
            self._sweep(key, new)
        self._remember(key, stored, state)

    def stored_values(self) -> list[tuple[str, bytes]]:
        raise NotImplementedError("a parted table's values are its states' parts: take() each key")

    def _sweep(self, key: str, header: dict[str, Any]) -> None:
        """After a new base's header: the segments before it, and chunks of a value stored whole, go."""
        self._swept.pop(key, None)
        for seq in range(header["from"], header["base"]):
            self._drop_segment(key, seq)
        if "legacy" in header:
            self._drop_chunks(key, {"gen": header["legacy"]})
        self._swept[key] = header["base"]

    def _write_segment(self, key: str, seq: int, blob: bytes) -> None:
        n = -(-len(blob) // CHUNK_BYTES)
        for i in range(n):
            self.table[_segment_key(self.partitions, key, seq, i)] = blob[i * CHUNK_BYTES:(i + 1) * CHUNK_BYTES]
        self._drop_segment(key, seq, n)  # what a worker killed before its header may have left of it

    def _segment(self, key: str, seq: int) -> bytes:
        chunks: list[bytes] = []
        while (chunk := self.table.get(_segment_key(self.partitions, key, seq, len(chunks)))) is not None:
            chunks.append(chunk)
        if not chunks:
            raise KeyError(f"segment {seq} of {key!r} is missing")
        return b"".join(chunks)

    def _drop_segment(self, key: str, seq: int, first: int = 0) -> None:
        i = first
        while self.table.get(k := _segment_key(self.partitions, key, seq, i)) is not None:
            del self.table[k]
            i += 1


def parted_header(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None or not raw.startswith(PARTED):
        return None
    return json.loads(raw[len(PARTED):])  # type: ignore[no-any-return]


def _segment_key(partitions: int, key: str, seq: int, i: int) -> bytes:
    return salted_key(partitions, key, SEGMENT_MARK + f"{seq}\x1f{i}".encode())

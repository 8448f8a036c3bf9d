"""Table values and internal messages to and from bytes (compact JSON, versioned by each state)."""

from __future__ import annotations

import json
from typing import Protocol, TypeVar

T = TypeVar("T", bound="Serialisable")


class Serialisable(Protocol):
    def to_dict(self) -> dict[str, object]: ...


def dumps(state: Serialisable) -> bytes:
    return json.dumps(state.to_dict(), separators=(",", ":")).encode("utf-8")


def loads_dict(raw: bytes) -> dict:  # type: ignore[type-arg]
    return json.loads(raw)  # type: ignore[no-any-return]

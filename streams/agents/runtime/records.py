"""One input record as the agents see it, whether faust delivered it or the broker reader fetched it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class InputRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    headers: tuple[tuple[str, bytes | None], ...]
    value: bytes

    @property
    def where(self) -> str:
        """`topic/partition/offset`: how rejections and logs name a record (never its content)."""
        return f"{self.topic}/{self.partition}/{self.offset}"


def _headers(raw: Any) -> tuple[tuple[str, bytes | None], ...]:
    items = raw.items() if isinstance(raw, dict) else (raw or ())
    return tuple((str(k), bytes(v) if v is not None else None) for k, v in items)


def _value(raw: Any) -> bytes:
    return raw if isinstance(raw, bytes) else bytes(raw or b"")


def from_faust(event: Any) -> InputRecord:
    """A record from a faust stream event (faust keeps the timestamp in seconds)."""
    msg = event.message
    return InputRecord(msg.topic, msg.partition, msg.offset, int(round((msg.timestamp or 0) * 1000)),
                       _headers(msg.headers), _value(msg.value))


def from_aiokafka(rec: Any) -> InputRecord:
    """A record fetched by the broker reader (aiokafka `ConsumerRecord`, timestamp in milliseconds)."""
    return InputRecord(rec.topic, rec.partition, rec.offset, int(rec.timestamp or 0), _headers(rec.headers),
                       _value(rec.value))

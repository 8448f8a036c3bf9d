"""A history as a stranger publishes it: every line of the file, each key always through the same
third-party producer (librdkafka via confluent-kafka), one producer per compression codec, with the
`om-arrival` header the event contract asks for (integer or decimal epoch seconds)."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import confluent_kafka

from streams.agents.runtime.topics import TopicSpec, ensure_topics
from streams.core.decode import decode_event
from streams.core.timebase import epoch
from tests.integration.live import BOOTSTRAP

CODECS = ("gzip", "snappy", "lz4", "zstd")


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes
    arrival: int  # the stream's clock at this line, as replay computes it (0 before the first event)


def history_records(path: Path) -> list[Record]:
    now = dt.datetime.now(dt.UTC)
    clock = 0
    out: list[Record] = []
    for line in path.read_bytes().splitlines():
        decoded = decode_event(line, now, max_bytes=64 * 1024, max_future=dt.timedelta(hours=24))
        key = None
        if not hasattr(decoded, "reason"):
            clock = max(clock, epoch(decoded.occurred_at))  # type: ignore[union-attr]
            who = getattr(decoded, "person_id", None) or decoded.unit_id  # type: ignore[union-attr]
            key = str(who).encode()
        else:
            try:
                body = json.loads(line)
                key = str(body.get("person_id") or body.get("unit_id") or "").encode() or None
            except (ValueError, AttributeError, RecursionError):  # any line a careless sender may write
                key = None
        out.append(Record(key, line, clock))
    return out


def publish_confluent(topic: str, records: Sequence[Record], codecs: Sequence[str] = CODECS,
                      partitions: int = 4, config: Mapping[str, object] | None = None) -> int:
    """Publish with one librdkafka producer per codec; a key always goes through the same producer.
    Half of the producers write the arrival header as an integer, the other half as a decimal. The
    topic is created first with the worker's partition count, as the README asks. `config`: more
    librdkafka settings for every producer."""
    ensure_topics(BOOTSTRAP, [TopicSpec(topic, partitions)])
    producers = [confluent_kafka.Producer({"bootstrap.servers": BOOTSTRAP, "compression.type": codec,
                                           "linger.ms": 20, "enable.idempotence": True,
                                           "client.id": f"stranger-{codec}", **(config or {})})
                 for codec in codecs]
    errors: list[str] = []

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            errors.append(str(err))

    for i, rec in enumerate(records):
        n = zlib.crc32(rec.key) % len(producers) if rec.key else i % len(producers)
        header = (str(rec.arrival) if n % 2 == 0 else f"{rec.arrival}.0").encode()
        headers = [("om-arrival", header)] if rec.arrival else None
        while True:
            try:
                producers[n].produce(topic, value=rec.value, key=rec.key, headers=headers, on_delivery=delivered)
                break
            except BufferError:
                producers[n].poll(0.1)
        producers[n].poll(0)
    for producer in producers:
        assert producer.flush(120) == 0, "a third-party producer could not deliver everything"
    assert not errors, errors[:3]
    return len(records)

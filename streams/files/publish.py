"""`outcome-monitor publish` and live `simulate`: send contract events to the input topic.

Keyed by person (staffing by unit), idempotent producer. Each record carries the stream's event-time
clock (the running maximum of occurred_at in file order) as its arrival time, in the header
`om-arrival` (epoch seconds), so that a file published to Kafka and the same file replayed give the same
flags. The record timestamp stays the wall clock: a historical file stamped with its own dates would
be deleted by the broker's retention within minutes. `--timestamps now` sends no header: the worker
then takes the record timestamp, as for any other client.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kafka import KafkaProducer

from streams.core.config import MonitorConfig
from streams.core.decode import decode_event
from streams.core.stream_clock import StreamClock
from streams.core.timebase import epoch
from streams.files.lines import InputEndedEarly, numbered_lines
from streams.kafka_access import KafkaAccess
from streams.models.events import ARRIVAL_HEADER
from streams.models.rejections import Rejection
from streams.progress import Progress


@dataclass
class PublishReport:
    sent: int = 0
    invalid: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    ended_early: str | None = None

    def text(self) -> str:
        lines = [f"publish: sent {self.sent} events"]
        if self.invalid:
            total = sum(self.invalid.values())
            detail = ", ".join(f"{r} {n}" for r, n in sorted(self.invalid.items()))
            lines.append(f"publish: {total} invalid lines ({detail})")
            lines += [f"  {e}" for e in self.examples]
        if self.ended_early:
            lines.append(f"publish: {self.ended_early}")
        return "\n".join(lines)


def producer(bootstrap: str, access: KafkaAccess | None = None) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
                         client_id="outcome-monitor-publish", **(access or KafkaAccess()).kafka_python())


def publish_lines(lines: Iterable[tuple[int, bytes]], prod: KafkaProducer, topic: str, config: MonitorConfig, *,
                  send_invalid: bool = False, stamp: str = "stream", rate: float | None = None,
                  progress: Progress | None = None, source: str = "input") -> PublishReport:
    report = PublishReport()
    clock: StreamClock[tuple[int, bytes, bytes | None]] = StreamClock(config.max_ahead_s)
    now = dt.datetime.now(dt.UTC)
    max_future = dt.timedelta(hours=config.max_future_hours)
    started = time.monotonic()

    def send(line: bytes, key: bytes | None, arrival: int) -> None:
        headers = [(ARRIVAL_HEADER, str(arrival).encode())] if stamp == "stream" and arrival else None
        prod.send(topic, key=key, value=line, headers=headers)
        report.sent += 1
        if rate:
            ahead = report.sent / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)

    try:
        for lineno, line in lines:
            decoded = decode_event(line, now, max_bytes=config.max_message_bytes, max_future=max_future)
            if isinstance(decoded, Rejection):
                report.invalid[decoded.reason.value] += 1
                if len(report.examples) < 5:
                    report.examples.append(f"{source}:{lineno}: {decoded.reason.value}: {decoded.message}")
                if send_invalid:
                    send(line, None, clock.now)
            else:
                # by person (a staffing report, an anonymous survey answer: by unit)
                key = (getattr(decoded, "person_id", None) or decoded.unit_id).encode()
                # The arrival header is the stream's own clock, which one stray date cannot move; a line
                # far ahead of it is sent when the stream has moved on with it (or, a stray line, at the
                # clock as it stands, and the worker rejects it as ahead_of_stream, as replay does).
                for (_, held_line, held_key), arrival in clock.offer(epoch(decoded.occurred_at),
                                                                      (lineno, line, key), decoded.event_id):
                    send(held_line, held_key, arrival)
            if progress is not None:
                progress.tick(lineno)
    except InputEndedEarly as exc:
        report.ended_early = str(exc)
    for (_, held_line, held_key), arrival in clock.drain():
        send(held_line, held_key, arrival)
    prod.flush()
    return report


def read_lines(path: str) -> Iterable[tuple[int, bytes]]:
    """(line number, line) of a file of events, as replay reads it."""
    return numbered_lines(Path(path))


def simulated_lines(records: Iterable[tuple[int, str]]) -> Iterable[tuple[int, bytes]]:
    for i, (_, line) in enumerate(records, start=1):
        yield i, line.encode()


def print_report(report: PublishReport, out: IO[str] = sys.stdout) -> None:
    print(report.text(), file=out)


def as_json(report: PublishReport) -> str:
    return json.dumps({"sent": report.sent, "invalid": dict(report.invalid)})

"""One line cannot move the stream's clock; the whole stream can (issue 12, item 1)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.config import MonitorConfig
from streams.core.stream_clock import StreamClock
from streams.files.publish import publish_lines
from streams.models.events import ARRIVAL_HEADER
from tests.helpers import NOW, event, monitor

SAMPLE = Path(__file__).resolve().parents[3] / "streams" / "sample" / "events.jsonl.gz"
DAY = 86400


def typo_of(line: str, when: str = "2026-11-30T09:00:00+01:00") -> str:
    doc = json.loads(line)
    doc["occurred_at"], doc["event_id"] = when, doc["event_id"] + "-typo"
    return json.dumps(doc)


def outcome(lines: list[str]) -> tuple[list[str], list[str], dict[str, int]]:
    m = monitor()
    for line in lines:
        m.process(line, NOW)
    m.finish()
    return ([f.model_dump_json() for f in m.open_flags()],
            [json.dumps(i.as_dict(), sort_keys=True) for i in m.unit_indicators()], dict(m.tally.rejected))


def test_one_line_dated_today_in_a_history_is_rejected_and_changes_nothing_else() -> None:
    lines = gzip.decompress(SAMPLE.read_bytes()).decode().splitlines()
    valid = next(i for i, line in enumerate(lines[1000:], 1000) if '"sick_leave"' in line)
    poisoned = lines[:1200] + [typo_of(lines[valid])] + lines[1200:]
    flags, indicators, rejected = outcome(lines)
    p_flags, p_indicators, p_rejected = outcome(poisoned)
    assert p_rejected.pop("ahead_of_stream") == 1
    assert p_rejected == rejected, "no line of the history became too late"
    assert p_flags == flags and p_indicators == indicators


def test_the_whole_stream_moving_on_after_a_gap_of_weeks_is_followed_and_nothing_is_lost() -> None:
    days = list(range(0, 60)) + list(range(95, 140))  # five weeks without data
    lines = [event("emergency_visit", d, person_id=f"p{d % 7}", hour=8 + d % 5) for d in days]
    m = monitor()
    for line in lines:
        m.process(line, NOW)
    m.finish()
    assert m.tally.accepted == len(lines) and not m.tally.rejected


@settings(max_examples=60, derandomize=True, deadline=None)
@given(position=st.integers(0, 170), years_ahead=st.integers(1, 30), seed=st.integers(0, 3))
def test_a_stray_date_anywhere_but_the_last_lines_is_the_only_line_that_changes(
        position: int, years_ahead: int, seed: int) -> None:
    lines = [event("emergency_visit", d // 3, person_id=f"p{(d * (seed + 3)) % 11}", hour=6 + d % 12)
             for d in range(200)]
    stray = typo_of(lines[position], f"{2025 + years_ahead}-03-01T10:00:00+01:00")
    flags, indicators, rejected = outcome(lines)
    s_flags, s_indicators, s_rejected = outcome(lines[:position] + [stray] + lines[position:])
    assert s_rejected in ({**rejected, "ahead_of_stream": 1}, {**rejected, "in_the_future": 1})
    assert (s_flags, s_indicators) == (flags, indicators)


def test_the_clock_holds_releases_and_refutes_as_documented() -> None:
    clock: StreamClock[str] = StreamClock(ahead_s=7 * DAY, confirm=3, refute=2)
    assert clock.offer(900 * DAY, "first-stray") == []  # the clock starts only when 3 events agree
    assert clock.offer(99 * DAY, "s1") == [] and clock.offer(99 * DAY, "s2") == []
    assert clock.offer(100 * DAY, "a") == [("s1", 99 * DAY), ("s2", 99 * DAY), ("a", 100 * DAY)]
    assert clock.offer(500 * DAY, "stray") == []
    assert clock.offer(101 * DAY, "b") == [("b", 101 * DAY)]
    # refuted by two events in step with the clock: released at the clock, for the door to reject
    assert clock.offer(102 * DAY, "c") == [("c", 102 * DAY), ("first-stray", 102 * DAY), ("stray", 102 * DAY)]
    assert clock.offer(130 * DAY, "x") == [] and clock.offer(131 * DAY, "y") == []
    assert clock.offer(132 * DAY, "z") == [("x", 130 * DAY), ("y", 131 * DAY), ("z", 132 * DAY)]
    assert clock.now == 132 * DAY
    assert clock.offer(400 * DAY, "last") == [] and clock.offer(133 * DAY, "d", key="d") == [("d", 133 * DAY)]
    assert clock.drain() == [("last", 400 * DAY)]  # neither confirmed nor refuted: taken at its own time


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, int | None]] = []

    def send(self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None) -> None:
        arrival = dict(headers or []).get(ARRIVAL_HEADER)
        self.sent.append((value, int(arrival) if arrival else None))

    def flush(self) -> None:
        pass


def test_publish_stamps_the_same_clock_so_the_worker_rejects_the_stray_line_as_replay_does() -> None:
    lines = [event("emergency_visit", d // 4, person_id=f"p{d % 5}") for d in range(300)]
    stray = typo_of(lines[10])
    prod = FakeProducer()
    report = publish_lines(enumerate([*(line.encode() for line in lines[:11]), stray.encode(),
                                      *(line.encode() for line in lines[11:])], start=1),
                           prod, "t", MonitorConfig())  # type: ignore[arg-type]
    assert report.sent == 301
    arrivals = [a for v, a in prod.sent if v != stray.encode()]
    assert arrivals == sorted(arrivals) and max(arrivals) < dt.datetime(2025, 12, 1, tzinfo=dt.UTC).timestamp()
    stray_arrival = next(a for v, a in prod.sent if v == stray.encode())
    m = monitor()
    result = m.process(stray, NOW, arrival=stray_arrival)
    assert result.rejection is not None and result.rejection.reason.value == "ahead_of_stream"

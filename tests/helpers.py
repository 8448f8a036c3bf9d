"""Small builders of contract-valid event lines, and a monitor to feed them to."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import random

from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.pseudonym import Pseudonymiser

KEY = b"test-pseudonym-key-0123456789"
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
DAY0 = dt.date(2025, 1, 6)  # a Monday
_ids = itertools.count(1)


def at(day: int, hour: int = 8) -> str:
    """ISO timestamp, Stockholm winter time, `day` days after DAY0."""
    d = DAY0 + dt.timedelta(days=day)
    return f"{d.isoformat()}T{hour:02d}:00:00+01:00"


def day_epoch(day: int, hour: int = 8) -> int:
    """Epoch seconds of `at(day, hour)`."""
    return int(dt.datetime.fromisoformat(at(day, hour)).timestamp())


def event(event_type: str, day: int, *, hour: int = 8, event_id: str | None = None, **fields: object) -> str:
    body: dict[str, object] = {
        "event_id": event_id or f"e{next(_ids)}",
        "event_type": event_type,
        "occurred_at": at(day, hour),
        "unit_id": fields.pop("unit_id", "unit-a"),
    }
    if event_type != "staffing":
        body["person_id"] = fields.pop("person_id", "emp-1")
    body.update(fields)
    return json.dumps(body)


def sick(day: int, person: str = "emp-1", **kw: object) -> str:
    return event("sick_leave", day, person_id=person, **kw)


def sick_days(days: list[int], person: str = "emp-1", **kw: object) -> list[str]:
    return [sick(d, person, **kw) for d in days]


def monitor(config: MonitorConfig | None = None) -> Monitor:
    return Monitor(config or MonitorConfig(), Pseudonymiser(KEY))


def run(lines: list[str], config: MonitorConfig | None = None) -> Monitor:
    m = monitor(config)
    for line in lines:
        m.process(line, NOW)
    m.finish()  # the end of the input: lines the stream's clock still holds are processed
    return m


def flags_of(m: Monitor, rule: str | None = None) -> list[dict[str, object]]:
    return [f.model_dump(mode="json") for f in m.open_flags() if rule is None or f.rule.value == rule]


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: small means, as weekly counts of a unit are)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1

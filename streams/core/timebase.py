"""Event time: epoch seconds for ordering, local calendar days (ordinals) for day-based rules."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_S = 86400
UTC = dt.UTC


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def epoch(ts: dt.datetime) -> int:
    return int(ts.timestamp())


def local_day(ts: dt.datetime, tz: str) -> int:
    """The calendar day (proleptic ordinal) on which `ts` falls in the organisation's time zone."""
    return ts.astimezone(zone(tz)).date().toordinal()


def day_to_date(day: int) -> dt.date:
    return dt.date.fromordinal(day)


def from_epoch(t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, tz=UTC)


def day_start(day: int, tz: str) -> dt.datetime:
    """Local midnight at the start of `day`, as an aware UTC datetime."""
    d = dt.date.fromordinal(day)
    local = dt.datetime(d.year, d.month, d.day, tzinfo=zone(tz))
    return local.astimezone(UTC)


def week_of(day: int) -> int:
    """Monday-based week index (ordinal 1, 0001-01-01, was a Monday)."""
    return (day - 1) // 7


def week_days(week: int) -> range:
    first = week * 7 + 1
    return range(first, first + 7)

"""Calendar months and quarters as small integers (months since year 0), so that aggregates key cheaply."""

from __future__ import annotations

import datetime as dt
import re

Month = int  # year * 12 + (month - 1)

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


def month_of(date: dt.date) -> Month:
    return date.year * 12 + date.month - 1


def month_of_day(day: int) -> Month:
    """The month of a proleptic ordinal day (a local calendar day, see `core.timebase.local_day`)."""
    return month_of(dt.date.fromordinal(day))


def month_label(m: Month) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def parse_month(label: str) -> Month:
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def first_day(m: Month) -> int:
    return dt.date(m // 12, m % 12 + 1, 1).toordinal()


def last_day(m: Month) -> int:
    return first_day(m + 1) - 1


def quarter_months(label: str) -> tuple[Month, Month, Month]:
    """The three months of a quarter written `2025Q3`."""
    match = _QUARTER.match(label.strip())
    if not match:
        raise ValueError(f"not a quarter like 2025Q3: {label!r}")
    first = int(match.group(1)) * 12 + (int(match.group(2)) - 1) * 3
    return first, first + 1, first + 2


def quarter_of(m: Month) -> str:
    return f"{m // 12:04d}Q{(m % 12) // 3 + 1}"

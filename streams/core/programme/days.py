"""Everyone's outcomes day by day, as cumulative sums: what a target trial is emulated on (`trial.py`).

Per measure a matrix persons x days (float64 cumulative sums, so that any window's sum is two lookups, for
every person at once), plus per person the day they were first seen, the last day their outcomes are known
(the data's last complete day, or the day before they moved or died), their first enrolment day, and their
unit per calendar month. Persons are in key order, so that everything computed from the table follows the
data only (not the order in which ledgers were filled).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from streams.core.programme.months import Month, first_day, month_of_day

NEVER = 10**9  # the enrolment day of someone never enrolled


@dataclass(slots=True)
class DayTable:
    keys: list[str]
    measures: tuple[str, ...]
    day0: int  # the table's first day (ordinal)
    days: int  # number of days covered
    cum: dict[str, np.ndarray]  # measure -> (persons, days + 1): cum[:, k] = sum over days day0 .. day0 + k - 1
    first: np.ndarray  # (persons,) first day seen
    end: np.ndarray  # (persons,) last day whose outcomes are known
    enrol: np.ndarray  # (persons,) first enrolment day (NEVER: never enrolled)
    month0: Month
    units: np.ndarray  # (persons, months) unit code per calendar month from month0 (-1: unknown)
    unit_names: list[str]

    @property
    def persons(self) -> int:
        return len(self.keys)

    def window(self, measure: str, start: np.ndarray | int, stop: np.ndarray | int,
               rows: np.ndarray | None = None) -> np.ndarray:
        """Per person (or per row in `rows`): the sum of `measure` over days [start, stop)."""
        c = self.cum[measure]
        r = np.arange(c.shape[0]) if rows is None else np.asarray(rows)
        a = np.clip(np.asarray(start) - self.day0, 0, self.days)
        b = np.clip(np.asarray(stop) - self.day0, 0, self.days)
        return np.asarray(c[r, b] - c[r, a])

    def unit_at(self, day: int) -> np.ndarray:
        """Every person's unit code on `day`: of the latest month up to that day's in which they were seen."""
        k = min(max(month_of_day(day) - self.month0, 0), self.units.shape[1] - 1)
        return np.asarray(self.units[:, k])


def day_table(keys: Sequence[str], measures: Sequence[str], day0: int, days: int,
              daily: Mapping[str, Mapping[str, Mapping[int, float]]], first: Mapping[str, int],
              end: Mapping[str, int], enrol: Mapping[str, int], units: Mapping[str, Mapping[Month, str]]
              ) -> DayTable:
    """From per person: measure -> {day: amount}, the first day seen, the last known day, the first enrolment
    day (absent: never) and the unit per month (carried forward to later months)."""
    keys = sorted(keys)
    index = {k: i for i, k in enumerate(keys)}
    cum = {}
    for measure in measures:
        grid = np.zeros((len(keys), days + 1))
        for k, per_measure in daily.items():
            row = per_measure.get(measure)
            if not row or k not in index:
                continue
            ds = np.fromiter(row.keys(), dtype=np.int64, count=len(row)) - day0
            vs = np.fromiter(row.values(), dtype=np.float64, count=len(row))
            ok = (ds >= 0) & (ds < days)
            np.add.at(grid[index[k]], ds[ok] + 1, vs[ok])
        cum[measure] = np.cumsum(grid, axis=1)
    month0 = month_of_day(day0)
    n_months = month_of_day(day0 + max(days - 1, 0)) - month0 + 1
    names = sorted({u for per in units.values() for u in per.values()})
    code = {u: i for i, u in enumerate(names)}
    unit_grid = np.full((len(keys), n_months), -1, dtype=np.int64)
    for k, per in units.items():
        if k not in index:
            continue
        row = unit_grid[index[k]]
        for m, u in per.items():
            if m - month0 < n_months:
                row[max(m - month0, 0)] = code[u]
        last = -1
        for j in range(n_months):  # carried forward: a person stays in their unit until seen elsewhere
            if row[j] < 0:
                row[j] = last
            last = row[j]
    return DayTable(keys, tuple(measures), day0, days, cum,
                    np.array([first.get(k, day0) for k in keys], dtype=np.int64),
                    np.array([end.get(k, day0 + days - 1) for k in keys], dtype=np.int64),
                    np.array([enrol.get(k, NEVER) for k in keys], dtype=np.int64),
                    month0, unit_grid, names)


def month_days(months: frozenset[Month] | None) -> list[tuple[int, int]] | None:
    """Calendar months as day intervals [start, stop), merged where they touch (None: all days)."""
    if months is None:
        return None
    out: list[tuple[int, int]] = []
    for m in sorted(months):
        a, b = first_day(m), first_day(m + 1)
        if out and out[-1][1] == a:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out

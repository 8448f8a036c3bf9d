"""A unit's week read off the organisation's unit-day series, the care population included."""

from __future__ import annotations

import bisect
from itertools import accumulate

from streams.core.org.outcomes import WeekTotals
from streams.core.org.state import OrgState
from streams.core.timebase import week_days


class RunningSums:
    """A running sum of one of the series' change figures per unit on a day: the unit's base (the changes
    on days forgotten) plus the changes on the series' days up to it. Built once per evaluation, read for
    many weeks. Persons in a care unit's care (`CarePopulations`), beds occupied by unplanned stays."""

    def __init__(self, state: OrgState, index: int, bases: dict[str, float]) -> None:
        self._days: dict[str, list[int]] = {}
        self._sums: dict[str, list[float]] = {}
        for unit_id, series in state.series.items():
            days = sorted(d for d, v in series.items() if v[index])
            if days or unit_id in bases:
                base = bases.get(unit_id, 0.0)
                self._days[unit_id] = days
                self._sums[unit_id] = list(accumulate((series[d][index] for d in days), initial=base))

    def on(self, unit_id: str, day: int) -> float:
        days = self._days.get(unit_id)
        if days is None:
            return 0.0
        i = bisect.bisect_right(days, day)
        return self._sums[unit_id][i]  # [base, base + first change, ...]


class CarePopulations:
    """Persons in each care unit's care on a day, and the beds its unplanned stays occupy."""

    def __init__(self, state: OrgState) -> None:
        self.persons = RunningSums(state, 7, state.care_base)
        self.beds = RunningSums(state, 8, state.beds_base)

    def on(self, unit_id: str, day: int) -> float:
        return self.persons.on(unit_id, day)


def week_totals(state: OrgState, week: int, populations: CarePopulations) -> dict[str, WeekTotals]:
    """Per unit with anything in the week (employees or persons in care)."""
    out = {}
    days = week_days(week)
    for unit_id, series in state.series.items():
        sums = [0.0] * 8
        last_hc = 0
        for d in days:
            v = series.get(d)
            if v is not None:
                for i in (0, 1, 3, 4, 5):
                    sums[i] += v[i]
                sums[2] += v[2]
                last_hc = v[2]
        care_days = sum(populations.on(unit_id, d) for d in days)
        bed_days = sum(populations.beds.on(unit_id, d) for d in days)
        if sums[2] <= 0 and care_days <= 0:
            continue
        out[unit_id] = WeekTotals(sick_days=sums[0], occasions=sums[1], headcount_days=sums[2],
                                  headcount=last_hc, ed_visits=sums[3], readmissions=sums[4],
                                  discharges=sums[5], inpatient_days=bed_days, care_days=care_days,
                                  care_population=round(populations.on(unit_id, days[-1])))
    return out

"""A unit's week read off the organisation's unit-day series, the care population included."""

from __future__ import annotations

import bisect
from itertools import accumulate

from streams.core.org.outcomes import WeekTotals
from streams.core.org.state import OrgState
from streams.core.timebase import week_days


class CarePopulations:
    """Persons in each care unit's care on a day: the unit's base (changes on days forgotten) plus the
    changes on the series' days up to it. Built once per evaluation, read for many weeks."""

    def __init__(self, state: OrgState) -> None:
        self._days: dict[str, list[int]] = {}
        self._sums: dict[str, list[float]] = {}
        for unit_id, series in state.series.items():
            days = sorted(d for d, v in series.items() if v[7])
            if days or unit_id in state.care_base:
                base = state.care_base.get(unit_id, 0.0)
                self._days[unit_id] = days
                self._sums[unit_id] = list(accumulate((series[d][7] for d in days), initial=base))

    def on(self, unit_id: str, day: int) -> float:
        days = self._days.get(unit_id)
        if days is None:
            return 0.0
        i = bisect.bisect_right(days, day)
        return self._sums[unit_id][i]  # [base, base + first change, ...]


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
                for i in (0, 1, 3, 4, 5, 6):
                    sums[i] += v[i]
                sums[2] += v[2]
                last_hc = v[2]
        care_days = sum(populations.on(unit_id, d) for d in days)
        if sums[2] <= 0 and care_days <= 0:
            continue
        out[unit_id] = WeekTotals(sick_days=sums[0], occasions=sums[1], headcount_days=sums[2],
                                  headcount=last_hc, ed_visits=sums[3], readmissions=sums[4],
                                  discharges=sums[5], inpatient_days=sums[6], care_days=care_days,
                                  care_population=round(populations.on(unit_id, days[-1])))
    return out

"""A unit's week read off the organisation's unit-day series, the care population included."""

from __future__ import annotations

from streams.core.org.outcomes import WeekTotals
from streams.core.org.state import BEDS_CHANGE, CARE_CHANGE, CHANGE_INDICES, OrgState
from streams.core.timebase import week_days
from streams.core.unit.summary import DayFigures


class RunningSums:
    """A running sum of one of the series' change figures per unit on a day: the unit's base (the changes
    on days forgotten) plus the changes on the series' days up to it. Persons in a care unit's care
    (`CarePopulations`), beds occupied by unplanned stays.

    Read for the days of the weeks an evaluation goes over (`first`..`last`), each unit's built once per
    evaluation from its sum up to the day before `first`: that sum comes from the one the previous
    evaluation left (`OrgState.running`, amended as late days change it) and the few days between, not from
    a pass over every day the series keep (up to `refold_weeks`), which would make an event's cost grow
    with the history kept. A day outside them is summed from the series."""

    def __init__(self, state: OrgState, index: int, bases: dict[str, float], first: int, last: int) -> None:
        self._state, self._index, self._bases = state, index, bases
        self._first, self._last = first, last
        self._sums: dict[str, list[float]] = {}

    def on(self, unit_id: str, day: int) -> float:
        series = self._state.series.get(unit_id)
        if series is None:
            return 0.0
        if not self._first <= day <= self._last:
            return self._through(unit_id, series, day)
        sums = self._sums.get(unit_id)
        if sums is None:
            sums = self._sums[unit_id] = self._build(unit_id, series)
        return sums[day - self._first]

    def _through(self, unit_id: str, series: dict[int, DayFigures], day: int) -> float:
        i = self._index
        return self._bases.get(unit_id, 0.0) + sum(v[i] for d, v in series.items() if d <= day and v[i])

    def _build(self, unit_id: str, series: dict[int, DayFigures]) -> list[float]:
        i, before = self._index, self._first - 1
        key = (i, unit_id)
        known = self._state.running.get(key)
        if known is None or abs(known[0] - before) > len(series):
            at = self._through(unit_id, series, before)
        elif known[0] < before:  # the changes are counts (whole numbers): in any order, the same sum
            at = known[1] + _changes(series, i, known[0] + 1, before)
        else:
            at = known[1] - _changes(series, i, before + 1, known[0])
        sums = []
        for d in range(self._first, self._last + 1):
            v = series.get(d)
            if v is not None:
                at += v[i]
            sums.append(at)
        self._state.running[key] = (self._last, at)
        return sums


def _changes(series: dict[int, DayFigures], index: int, first: int, last: int) -> float:
    """The changes on the days `first`..`last`, looked up day by day."""
    total = 0.0
    for d in range(first, last + 1):
        v = series.get(d)
        if v is not None:
            total += v[index]
    return total


def amend_running(state: OrgState, unit_id: str, day: int, old: DayFigures | None, new: DayFigures) -> None:
    """A unit-day of the series is (re)written: the running sums that count it follow."""
    for i in CHANGE_INDICES:
        key = (i, unit_id)
        known = state.running.get(key)
        if known is not None and day <= known[0]:
            change = new[i] - (old[i] if old is not None else 0.0)
            if change:
                state.running[key] = (known[0], known[1] + change)


class CarePopulations:
    """Persons in each care unit's care on a day, and the beds its unplanned stays occupy; read for the days
    `first`..`last` (others are summed from the series)."""

    def __init__(self, state: OrgState, first: int = 0, last: int = -1) -> None:
        self.persons = RunningSums(state, CARE_CHANGE, state.care_base, first, last)
        self.beds = RunningSums(state, BEDS_CHANGE, state.beds_base, first, last)

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

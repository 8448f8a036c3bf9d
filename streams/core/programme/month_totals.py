"""One person's outcomes in a calendar month (`MonthTotals`), the measures counted, and how the ledger's
facts (the little an outcome needs of an admitted event) add up into months, in day order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from streams.core.programme.months import Month, month_of_day
from streams.models.events import Admission, Discharge, EmergencyVisit, HomeCareContact, PersonEvent, SickLeave

INPATIENT_DAYS = "inpatient_days"  # unplanned stays: discharge date - admission date, by day
PLANNED_INPATIENT_DAYS = "planned_inpatient_days"
ADMISSIONS = "admissions"  # unplanned stays, in the month they started
PLANNED_ADMISSIONS = "planned_admissions"
ED_VISITS = "ed_visits"
HOME_CARE_UNPLANNED = "home_care_unplanned"  # contacts
HOME_CARE_PLANNED = "home_care_planned"
HOME_CARE_UNPLANNED_MINUTES = "home_care_unplanned_minutes"
HOME_CARE_PLANNED_MINUTES = "home_care_planned_minutes"
SICK_DAYS = "sick_days"  # calendar sick days weighted by extent
SICK_OCCASIONS = "sick_occasions"  # counted in the month the occasion starts
SHORT_DAYS = "short_days"  # days 1..short_term_days of an occasion (employer's sick-pay period)
LONG_DAYS = "long_days"

#: Kept day by day as well as by month: eligibility, matching and follow-up are at day resolution.
DAILY = frozenset({INPATIENT_DAYS, ADMISSIONS, ED_VISITS, HOME_CARE_UNPLANNED, HOME_CARE_UNPLANNED_MINUTES, SICK_DAYS,
                   SICK_OCCASIONS, SHORT_DAYS, LONG_DAYS})


@dataclass(slots=True)
class MonthTotals:
    """One person's outcomes in one calendar month, and the units and organisations the person was seen in."""

    values: dict[str, float] = field(default_factory=dict)
    units: set[str] = field(default_factory=set)
    organisations: set[str] = field(default_factory=set)
    # day -> measure -> amount, for the measures a target trial looks at day by day (`DAILY`); empty in
    # months folded by a ledger older than version 3 (then the month's totals stand for its days evenly)
    days: dict[int, dict[str, float]] = field(default_factory=dict)

    def add(self, measure: str, amount: float, day: int | None = None) -> None:
        self.values[measure] = self.values.get(measure, 0.0) + amount
        if day is not None and measure in DAILY:
            row = self.days.setdefault(day, {})
            row[measure] = row.get(measure, 0.0) + amount

    def get(self, measure: str) -> float:
        return self.values.get(measure, 0.0)


Months = dict[Month, MonthTotals]


def outcome_fact(event: PersonEvent, day: int) -> list[Any] | None:
    """The little an outcome needs of an event: [kind, day, unit, ..., organisation ("": none)]."""
    org = event.organisation or ""
    if isinstance(event, SickLeave):
        return ["s", day, event.unit_id, float(event.extent), org]
    if isinstance(event, EmergencyVisit):
        return ["e", day, event.unit_id, org]
    if isinstance(event, HomeCareContact):
        return ["h", day, event.unit_id, event.minutes, event.planned, org]
    if isinstance(event, Admission):
        return ["a", day, event.unit_id, event.stay_id, event.planned, org]
    if isinstance(event, Discharge):
        return ["d", day, event.unit_id, event.stay_id, org]
    return None


def pair_stays(facts: Any) -> dict[str, tuple[list[Any] | None, list[Any] | None]]:
    """stay_id -> (admission, discharge); of several, the earliest admission and the latest discharge."""
    adm: dict[str, list[Any]] = {}
    dis: dict[str, list[Any]] = {}
    for f in facts:
        if f[0] == "a" and (f[3] not in adm or f[1:] < adm[f[3]][1:]):
            adm[f[3]] = f
        elif f[0] == "d" and (f[3] not in dis or f[1] > dis[f[3]][1]):
            dis[f[3]] = f
    return {s: (adm.get(s), dis.get(s)) for s in adm.keys() | dis.keys()}


def _month(months: Months, day: int) -> MonthTotals:
    m = month_of_day(day)
    if m not in months:
        months[m] = MonthTotals()
    return months[m]


def fold_facts(facts: list[list[Any]], months: Months, tail: list[float] | None, gap: int,
               short_days: int) -> list[float] | None:
    """Add `facts` to `months` in day order; returns the sick-leave tail after them. Stays need both halves."""
    sick: dict[int, float] = defaultdict(float)
    for f in facts:
        kind, day, unit = f[0], f[1], f[2]
        totals = _month(months, day)
        totals.units.add(unit)
        if f[-1]:
            totals.organisations.add(f[-1])
        if kind == "s":
            sick[day] = max(sick[day], f[3])  # one calendar day of sick leave, whatever was sent twice
        elif kind == "e":
            _month(months, day).add(ED_VISITS, 1.0, day)
        elif kind == "h":
            t = _month(months, day)
            t.add(HOME_CARE_PLANNED if f[4] else HOME_CARE_UNPLANNED, 1.0, day)
            t.add(HOME_CARE_PLANNED_MINUTES if f[4] else HOME_CARE_UNPLANNED_MINUTES, float(f[3]), day)
    for adm, dis in pair_stays(facts).values():
        if adm is None or dis is None:
            continue
        planned = bool(adm[4])
        _month(months, adm[1]).add(PLANNED_ADMISSIONS if planned else ADMISSIONS, 1.0, adm[1])
        for d in range(adm[1], dis[1]):  # each night in hospital, in the month it falls in
            _month(months, d).add(PLANNED_INPATIENT_DAYS if planned else INPATIENT_DAYS, 1.0, d)
    for day in sorted(sick):
        extent = sick[day]
        t = _month(months, day)
        if tail is None or day - tail[0] > gap:
            t.add(SICK_OCCASIONS, 1.0, day)
            tail = [day, 0.0]
        tail = [day, tail[1] + 1]
        t.add(SICK_DAYS, extent, day)
        t.add(SHORT_DAYS if tail[1] <= short_days else LONG_DAYS, extent, day)
    return tail

"""A programme's cohort: per enrolled person the months before and after enrolment, in event time, the
after-window filling as the months pass; and everyone else, month by month, to draw references from."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.core.programme.ledger import PersonLedger
from streams.core.programme.money import care_cost, sick_leave_cost
from streams.core.programme.month_totals import (
    ADMISSIONS,
    ED_VISITS,
    HOME_CARE_PLANNED,
    HOME_CARE_UNPLANNED,
    INPATIENT_DAYS,
    LONG_DAYS,
    PLANNED_INPATIENT_DAYS,
    SHORT_DAYS,
    SICK_DAYS,
    SICK_OCCASIONS,
    MonthTotals,
)
from streams.core.programme.months import Month, first_day, last_day, month_of_day
from streams.core.programme.trial import Criterion
from streams.core.programme_config import CostTable, ProgrammeKind

COST_SEK = "cost_sek"  # the outcomes valued with the cost table: what the programme could save

#: Reasons for leaving after which a member's later months are unknown (not months without care): they are
#: followed only up to the month before the month they left. After any other reason (completed, declined,
#: none given) they are followed as if still in (intention to treat).


OUTCOMES: dict[ProgrammeKind, tuple[str, ...]] = {
    ProgrammeKind.CARE: (INPATIENT_DAYS, ED_VISITS, HOME_CARE_UNPLANNED),
    ProgrammeKind.HR: (SICK_DAYS, SICK_OCCASIONS, SHORT_DAYS, LONG_DAYS),
}
# The before-profile references are matched on: short and long days are parts of sick days.
MATCH_ON: dict[ProgrammeKind, tuple[str, ...]] = {
    ProgrammeKind.CARE: (INPATIENT_DAYS, ED_VISITS, HOME_CARE_UNPLANNED),
    ProgrammeKind.HR: (SICK_DAYS, SICK_OCCASIONS),
}
# Kept day by day beside the programme's measures: eligibility rules and the care team's matching read them.
DAY_EXTRA = (ADMISSIONS,)
# Shown for context, not estimated: planned care is the care plan, not what the programme avoids.
CONTEXT: dict[ProgrammeKind, tuple[str, ...]] = {
    ProgrammeKind.CARE: (PLANNED_INPATIENT_DAYS, HOME_CARE_PLANNED),
    ProgrammeKind.HR: (),
}


@dataclass(frozen=True, slots=True)
class ProgrammeSpec:
    """A programme as the monitor follows it: the `program` of its enrolments and what it should change."""

    name: str
    kind: ProgrammeKind
    window_months: int = 6  # months before enrolment (the before-level)
    after_months: int | None = None  # months followed after it; None: as many as before. A contract that
    # pays by what it saves over years can follow its members longer (36), within the data's reach.
    eligibility: tuple[Criterion, ...] = ()  # eligible when any holds; (): none declared

    @property
    def after_window(self) -> int:
        return self.after_months if self.after_months is not None else self.window_months

    @property
    def measures(self) -> tuple[str, ...]:
        return (*OUTCOMES[self.kind], COST_SEK, *CONTEXT[self.kind])


@dataclass(slots=True)
class Series:
    """One person's monthly values of the programme's measures, and the unit they were in each month."""

    values: dict[Month, tuple[float, ...]] = field(default_factory=dict)
    unit_months: list[Month] = field(default_factory=list)  # sorted months with a known unit
    units: list[str] = field(default_factory=list)  # the unit of each of those months
    first_month: Month | None = None

    def value(self, m: Month, i: int) -> float:
        row = self.values.get(m)
        return row[i] if row is not None else 0.0

    def unit_at(self, m: Month) -> str | None:
        """The person's unit in month m: of the latest month up to m in which they were seen."""
        k = bisect.bisect_right(self.unit_months, m)
        return self.units[k - 1] if k else None

    def mean(self, first: Month, last: Month, i: int) -> float:
        return sum(self.value(m, i) for m in range(first, last + 1)) / (last - first + 1)


@dataclass(frozen=True, slots=True)
class Member:
    """An enrolled person. `person` is the internal key, never shown; reports number members instead."""

    person: str
    unit_id: str
    enrol_month: Month
    left_month: Month | None
    observed_after: int  # months of the after-window observed (0..window): so far, or up to a move or death
    left_reason: str | None = None
    organisation: str | None = None  # of the enrolment event: the organisation responsible


@dataclass(slots=True)
class Daily:
    """Everyone's outcomes day by day (measure -> day -> amount, the cost valued per day too), the first
    enrolment day of everyone ever enrolled and the last day a person's outcomes are known when it is before
    the data's end (moved or died): what the emulated trials run on."""

    outcomes: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict)
    enrol: dict[str, int] = field(default_factory=dict)
    end: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Cohort:
    spec: ProgrammeSpec
    as_of: Month  # the last complete month of data
    members: list[Member]
    series: dict[str, Series]
    enrol_month: dict[str, Month]  # first enrolment month of everyone ever enrolled
    daily: Daily = field(default_factory=Daily)

    @property
    def measures(self) -> tuple[str, ...]:
        return self.spec.measures

    def before_months(self, member: Member) -> range:
        return range(member.enrol_month - self.spec.window_months, member.enrol_month)

    def after_months(self, member: Member) -> range:
        """Months after the enrolment month (which is left out: it holds the events that led to enrolment
        and is partly before, partly after)."""
        return range(member.enrol_month + 1, member.enrol_month + 1 + member.observed_after)

    def references_all(self, month: Month) -> list[str]:
        """Persons seen by `month` and not (yet) enrolled by its end: the candidates for a reference."""
        return [k for k, s in self.series.items()
                if s.unit_at(month) is not None and self.enrol_month.get(k, month + 1) > month]


def as_of_month(ledgers: Mapping[str, PersonLedger]) -> Month | None:
    """The last complete month of the data: the month of the latest event if it is its last day, else the one
    before."""
    days = [p.max_day for p in ledgers.values() if p.max_day is not None]
    if not days:
        return None
    latest = max(days)
    m = month_of_day(latest)
    return m if latest == last_day(m) else m - 1


def _row(spec: ProgrammeSpec, totals: MonthTotals, unit_id: str, costs: CostTable) -> tuple[float, ...]:
    out = []
    for measure in spec.measures:
        if measure == COST_SEK:
            out.append(care_cost(costs, totals) if spec.kind == ProgrammeKind.CARE
                       else sick_leave_cost(costs, totals, unit_id))
        else:
            out.append(totals.get(measure))
    return tuple(out)


def _days(spec: ProgrammeSpec, m: Month, totals: MonthTotals, unit_id: str, costs: CostTable,
          into: dict[str, dict[int, float]]) -> None:
    """One month's outcomes day by day, into `into` (measure -> day -> amount). A month folded by an older
    ledger has no days: its totals are spread evenly over its days."""
    days = totals.days
    if not days and totals.values:
        n = last_day(m) - first_day(m) + 1
        share = {k: v / n for k, v in totals.values.items()}
        days = {d: share for d in range(first_day(m), last_day(m) + 1)}
    for d, row in days.items():
        values = _row(spec, MonthTotals(dict(row)), unit_id, costs)
        for measure, v in zip(spec.measures, values, strict=True):
            if v:
                into.setdefault(measure, {})[d] = v
        for measure in DAY_EXTRA:
            if row.get(measure):
                into.setdefault(measure, {})[d] = row[measure]


def build_cohort(ledgers: Mapping[str, PersonLedger], spec: ProgrammeSpec, costs: CostTable,
                 as_of: Month | None = None) -> Cohort:
    """Everyone's monthly series of the programme's measures, and the members with their windows up to
    `as_of` (default: the last complete month of the data)."""
    data_as_of = as_of_month(ledgers)
    if as_of is None or (data_as_of is not None and as_of > data_as_of):
        as_of = data_as_of if data_as_of is not None else 0
    series: dict[str, Series] = {}
    enrol: dict[str, Month] = {}
    members: list[Member] = []
    daily = Daily()
    for key in sorted(ledgers):  # in key order: the bootstrap and the matches' ties then follow the data only
        ledger = ledgers[key]
        s = Series()
        for m, totals in sorted(ledger.months().items()):
            if m > as_of:
                break
            unit = min(totals.units) if totals.units else (s.units[-1] if s.units else None)
            if unit is None:
                continue
            s.unit_months.append(m)
            s.units.append(unit)
            s.values[m] = _row(spec, totals, unit, costs)
            _days(spec, m, totals, unit, costs, daily.outcomes.setdefault(key, {}))
        episodes = [e for e in ledger.episodes(spec.name) if month_of_day(e.joined_day) <= as_of]
        if episodes:
            first = episodes[0]
            em = month_of_day(first.joined_day)
            enrol[key] = em
            daily.enrol[key] = first.joined_day
            left = month_of_day(first.left_day) if first.left_day is not None else None
            observed = max(0, min(spec.after_window, as_of - em))
            gone = ledger.gone_since(first.joined_day)
            if gone is not None and gone <= last_day(as_of):
                daily.end[key] = gone - 1
            if gone is not None and month_of_day(gone) <= as_of:
                # Moved away or died (said by any `left` of any programme, also one after a "completed"):
                # what follows is unknown, not "no care" (a death is no avoided care). Followed up to the
                # month before that month; the enrolment month never counts.
                observed = max(0, min(observed, month_of_day(gone) - 1 - em))
            members.append(Member(key, first.unit_id, em, left, observed, first.reason, first.organisation))
            if s.unit_at(em) is None:  # enrolled before any outcome: the enrolment names the unit
                s.unit_months.insert(0, em)
                s.units.insert(0, first.unit_id)
        if s.unit_months:
            s.first_month = s.unit_months[0]
            series[key] = s
    members.sort(key=lambda mem: (mem.enrol_month, mem.unit_id, mem.person))
    return Cohort(spec, as_of, members, series, enrol, daily)

"""One person's outcome state, folded over facts in event-time order: occasions and the person rules.

`PersonFold.step` is a pure state transition. It records what it concludes in an `Emits`: flags (by id)
and contributions to unit figures (by metric, unit, day). The tracker (`person.py`) replays the step over
the not-yet-settled suffix whenever a late fact arrives, so that the result depends only on the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.config import MonitorConfig
from streams.core.flag_ids import flag_id
from streams.core.person.facts import Fact
from streams.core.timebase import DAY_S, day_to_date, from_epoch
from streams.models.flags import (
    EmergencyVisitEvidence,
    Flag,
    ReadmissionEvidence,
    Rule,
    SickLeaveEvidence,
)

ContribKey = tuple[str, str, int]  # (metric, unit_id, day)


@dataclass(slots=True)
class Emits:
    flags: dict[str, Flag] = field(default_factory=dict)
    contrib: dict[ContribKey, float] = field(default_factory=dict)

    def add(self, metric: str, unit_id: str, day: int, value: float) -> None:
        key = (metric, unit_id, day)
        self.contrib[key] = self.contrib.get(key, 0.0) + value

    def flags_add(self, flag: Flag) -> None:
        self.flags[flag.flag_id] = flag


@dataclass(slots=True)
class Occasion:
    """A run of sick days; a sick day within `occasion_gap_days` of the last one continues it."""

    start_day: int
    last_day: int
    days: int
    start_event_id: str
    unit_id: str
    last_extent: float
    long_flagged: bool = False

    def to_list(self) -> list[object]:
        return [self.start_day, self.last_day, self.days, self.start_event_id, self.unit_id,
                self.last_extent, self.long_flagged]

    @classmethod
    def from_list(cls, row: list) -> Occasion:  # type: ignore[type-arg]
        return cls(int(row[0]), int(row[1]), int(row[2]), str(row[3]), str(row[4]), float(row[5]),
                   bool(row[6]))


@dataclass(slots=True)
class PersonFold:
    """Learned state of one person. Small: only what a window can still need."""

    occasions: list[Occasion] = field(default_factory=list)
    repeated_active: bool = False
    ed_visits: list[tuple[int, str]] = field(default_factory=list)
    ed_active: bool = False
    # (t, event_id, unit_id, day, readmitted)
    discharges: list[tuple[int, str, str, int, bool]] = field(default_factory=list)
    last_t: int = 0

    def copy(self) -> PersonFold:
        return PersonFold(
            [Occasion.from_list(o.to_list()) for o in self.occasions],
            self.repeated_active,
            list(self.ed_visits),
            self.ed_active,
            list(self.discharges),
            self.last_t,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "occasions": [o.to_list() for o in self.occasions],
            "repeated_active": self.repeated_active,
            "ed_visits": [list(v) for v in self.ed_visits],
            "ed_active": self.ed_active,
            "discharges": [list(d) for d in self.discharges],
            "last_t": self.last_t,
        }

    @classmethod
    def from_dict(cls, d: dict) -> PersonFold:  # type: ignore[type-arg]
        return cls(
            [Occasion.from_list(o) for o in d["occasions"]],
            bool(d["repeated_active"]),
            [(int(t), str(e)) for t, e in d["ed_visits"]],
            bool(d["ed_active"]),
            [(int(t), str(e), str(u), int(day), bool(r)) for t, e, u, day, r in d["discharges"]],
            int(d["last_t"]),
        )

    # -- indicators -------------------------------------------------------------------------------

    def sick_leave_window(self, end_day: int, window_days: int) -> tuple[int, int, list[Occasion]]:
        """Occasions starting in (end_day - window, end_day], their calendar sick days, the occasions."""
        inside = [o for o in self.occasions if end_day - window_days < o.start_day <= end_day]
        return len(inside), sum(o.days for o in inside), inside

    def bradford_factor(self, end_day: int, window_days: int = 365) -> int:
        spells, days, _ = self.sick_leave_window(end_day, window_days)
        return spells * spells * days


class PersonRules:
    """The person rules and the unit contributions, as one step over a fact."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        r = config.rules
        c = config.cost
        self._gap = r.occasion_gap_days
        self._short_day_sek = c.monthly_salary_sek * c.short_term_day_share
        self._long_day_sek = c.monthly_salary_sek * c.long_term_day_share

    def step(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        s.last_t = max(s.last_t, f.t)
        kind = f.kind
        if kind == "sick_leave":
            self._sick_day(s, f, subject, out)
        elif kind == "emergency_visit":
            self._emergency_visit(s, f, subject, out)
        elif kind == "admission":
            self._admission(s, f, subject, out)
        elif kind == "discharge":
            self._discharge(s, f, out)
        elif kind == "home_care_contact":
            out.add("home_care_contacts", f.unit_id, f.day, 1.0)
            out.add("home_care_minutes", f.unit_id, f.day, f.value)
            if not f.planned:
                out.add("home_care_unplanned", f.unit_id, f.day, 1.0)
        elif kind == "enrollment":
            out.add("enrollments", f.unit_id, f.day, 1.0)

    # -- sick leave -------------------------------------------------------------------------------

    def _day_cost(self, day_number: int, extent: float) -> float:
        short = day_number <= self.config.cost.short_term_days
        per_day = self._short_day_sek if short else self._long_day_sek
        return per_day * extent

    def _sick_day(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        cur = s.occasions[-1] if s.occasions else None
        if cur is not None and f.day == cur.last_day:
            # A second report of the same day counts once, with the largest extent reported.
            if f.value > cur.last_extent:
                extra = f.value - cur.last_extent
                cur.last_extent = f.value
                out.add("sick_days", cur.unit_id, f.day, extra)
                out.add("sick_cost_sek", cur.unit_id, f.day, self._day_cost(cur.days, extra))
            return
        if cur is not None and f.day - cur.last_day <= self._gap:
            cur.days += 1
            cur.last_day = f.day
            cur.last_extent = f.value
            occ = cur
        else:
            occ = Occasion(f.day, f.day, 1, f.event_id, f.unit_id, f.value)
            s.occasions.append(occ)
            out.add("occasions", occ.unit_id, f.day, 1.0)
            self._check_repeated(s, f, subject, out)
        out.add("sick_days", occ.unit_id, f.day, f.value)
        out.add("sick_cost_sek", occ.unit_id, f.day, self._day_cost(occ.days, f.value))
        rules = self.config.rules
        if occ.days >= rules.long_sick_leave_days and not occ.long_flagged:
            occ.long_flagged = True
            out.flags_add(self._sick_flag(Rule.LONG_SICK_LEAVE, s, f, subject, occ, [occ.start_event_id,
                                                                                    f.event_id]))
        self._forget_occasions(s, f.day)

    def _check_repeated(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        rules = self.config.rules
        n, _, inside = s.sick_leave_window(f.day, rules.repeated_sick_leave_window_days)
        if n >= rules.repeated_sick_leave_occasions:
            if not s.repeated_active:
                s.repeated_active = True
                ids = [o.start_event_id for o in inside]
                out.flags_add(self._sick_flag(Rule.REPEATED_SICK_LEAVE, s, f, subject, inside[-1], ids))
        else:
            s.repeated_active = False

    def _sick_flag(
        self, rule: Rule, s: PersonFold, f: Fact, subject: str, occ: Occasion, event_ids: list[str]
    ) -> Flag:
        window = self.config.rules.repeated_sick_leave_window_days
        n, days, inside = s.sick_leave_window(f.day, window)
        threshold = (
            self.config.rules.repeated_sick_leave_occasions
            if rule is Rule.REPEATED_SICK_LEAVE
            else self.config.rules.long_sick_leave_days
        )
        evidence = SickLeaveEvidence(
            window_start=day_to_date(f.day - window + 1),
            window_end=day_to_date(f.day),
            occasions=n,
            sick_days=days,
            bradford_factor=n * n * days,
            occasion_days=occ.days,
            threshold=threshold,
            event_ids=event_ids,
        )
        return _flag(rule, subject, occ.unit_id, f, evidence)

    def _forget_occasions(self, s: PersonFold, today: int) -> None:
        horizon = today - self.config.rules.repeated_sick_leave_window_days
        if len(s.occasions) > 1 and s.occasions[0].start_day <= horizon:
            s.occasions = [o for o in s.occasions[:-1] if o.start_day > horizon] + [s.occasions[-1]]

    # -- care -------------------------------------------------------------------------------------

    def _emergency_visit(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        out.add("ed_visits", f.unit_id, f.day, 1.0)
        rules = self.config.rules
        window_s = rules.frequent_emergency_window_days * DAY_S
        s.ed_visits = [v for v in s.ed_visits if v[0] > f.t - window_s]
        s.ed_visits.append((f.t, f.event_id))
        if len(s.ed_visits) >= rules.frequent_emergency_visits:
            if not s.ed_active:
                s.ed_active = True
                evidence = EmergencyVisitEvidence(
                    window_start=day_to_date(f.day - rules.frequent_emergency_window_days + 1),
                    window_end=day_to_date(f.day),
                    visits=len(s.ed_visits),
                    threshold=rules.frequent_emergency_visits,
                    event_ids=[e for _, e in s.ed_visits],
                )
                out.flags_add(_flag(Rule.FREQUENT_EMERGENCY_VISITS, subject, f.unit_id, f, evidence))
        else:
            s.ed_active = False

    def _discharge(self, s: PersonFold, f: Fact, out: Emits) -> None:
        out.add("discharges", f.unit_id, f.day, 1.0)
        window_s = self.config.rules.readmission_window_days * DAY_S
        s.discharges = [d for d in s.discharges if d[0] >= f.t - window_s]
        s.discharges.append((f.t, f.event_id, f.unit_id, f.day, False))

    def _admission(self, s: PersonFold, f: Fact, subject: str, out: Emits) -> None:
        out.add("admissions", f.unit_id, f.day, 1.0)
        if f.planned:
            return
        out.add("unplanned_admissions", f.unit_id, f.day, 1.0)
        window_days = self.config.rules.readmission_window_days
        window_s = window_days * DAY_S
        s.discharges = [d for d in s.discharges if d[0] >= f.t - window_s]
        if not s.discharges:
            return
        t, event_id, unit_id, day, readmitted = s.discharges[-1]
        evidence = ReadmissionEvidence(
            discharge_event_id=event_id,
            discharged_at=from_epoch(t),
            discharging_unit_id=unit_id,
            admission_event_id=f.event_id,
            days_after_discharge=round((f.t - t) / DAY_S, 3),
            window_days=window_days,
        )
        out.flags_add(_flag(Rule.READMISSION_30D, subject, f.unit_id, f, evidence))
        if not readmitted:
            # The readmission rate counts index discharges followed by a readmission, once each.
            s.discharges[-1] = (t, event_id, unit_id, day, True)
            out.add("readmissions", unit_id, day, 1.0)


def _flag(rule: Rule, subject: str, unit_id: str, f: Fact, evidence: object) -> Flag:
    return Flag(
        flag_id=flag_id(rule.value, subject, f.event_id),
        rule=rule,
        subject_kind="person",
        subject_id=subject,
        unit_id=unit_id,
        raised_at=from_epoch(f.t),
        evidence=evidence,  # type: ignore[arg-type]
    )


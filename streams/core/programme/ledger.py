"""A person's outcome ledger: compact monthly aggregates folded from admitted events, so that programme
follow-up can span a contract's years (far longer than the live state's retention).

Recent events are kept as facts until they are `horizon_days` older than the person's latest event;
then they are folded, in day order, into per-month totals and forgotten. The totals therefore depend
only on the set of events (not their order) as long as no event arrives more than the horizon late
(the admit stage's allowed lateness, 7 days, is well inside); such an event is counted, not used.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from streams.core.programme.month_totals import (
    ADMISSIONS,
    ED_VISITS,
    HOME_CARE_PLANNED,
    HOME_CARE_PLANNED_MINUTES,
    HOME_CARE_UNPLANNED,
    HOME_CARE_UNPLANNED_MINUTES,
    INPATIENT_DAYS,
    LONG_DAYS,
    PLANNED_ADMISSIONS,
    PLANNED_INPATIENT_DAYS,
    SHORT_DAYS,
    SICK_DAYS,
    SICK_OCCASIONS,
    Months,
    MonthTotals,
    fold_facts,
    outcome_fact,
    pair_stays,
)
from streams.core.programme.months import month_label, parse_month
from streams.core.timebase import local_day
from streams.models.events import Enrollment, PersonEvent, Retraction

# The measures and MonthTotals stay importable from here, where the ledger's readers have always found them.
__all__ = ["ADMISSIONS", "CENSORING_REASONS", "ED_VISITS", "HOME_CARE_PLANNED", "HOME_CARE_PLANNED_MINUTES",
           "HOME_CARE_UNPLANNED", "HOME_CARE_UNPLANNED_MINUTES", "INPATIENT_DAYS", "LONG_DAYS", "ORPHAN_DAYS",
           "PLANNED_ADMISSIONS", "PLANNED_INPATIENT_DAYS", "READABLE_VERSIONS", "SCHEMA_VERSION", "SHORT_DAYS",
           "SICK_DAYS", "SICK_OCCASIONS", "Episode", "LedgerBook", "MonthTotals", "Months", "PersonLedger", "step"]

SCHEMA_VERSION = 3  # 2: organisations per month, a fact's organisation, an enrolment's reason and organisation;
# 3: the outcomes of each settled month day by day (`MonthTotals.days`)
READABLE_VERSIONS = (1, 2, 3)

CENSORING_REASONS = frozenset({"moved", "died"})  # a `left` for these ends a person's follow-up
ORPHAN_DAYS = 365  # half a stay (admission or discharge) waits this long for its other half


@dataclass(frozen=True, slots=True)
class Episode:
    """A programme membership: joined on `joined_day`, left on `left_day` (None: still in) for `reason`
    (completed, declined, moved, died; None: not given). `organisation`: of the joining event."""

    program: str
    joined_day: int
    left_day: int | None
    unit_id: str
    reason: str | None = None
    organisation: str | None = None


@dataclass(slots=True)
class PersonLedger:
    """The ledger of one person. Mutated in place by `add`; `to_dict`/`from_dict` round-trip it."""

    horizon_days: int = 60
    occasion_gap_days: int = 5
    short_term_days: int = 14
    settled: Months = field(default_factory=dict)
    pending: dict[str, list[Any]] = field(default_factory=dict)  # event_id -> fact
    # event_id -> [program, status, t, day, unit, reason, organisation]
    enrolments: dict[str, list[Any]] = field(default_factory=dict)
    retracted: dict[str, int] = field(default_factory=dict)  # event_id -> its day
    tail: list[float] | None = None  # [last sick day settled, sick days of its occasion so far]
    frontier: int | None = None  # days before it are settled
    max_day: int | None = None
    late_ignored: int = 0
    orphans_dropped: int = 0

    # -- folding ----------------------------------------------------------------------------------
    def add(self, event: PersonEvent, tz: str = "Europe/Stockholm") -> bool:
        """Fold one admitted event in; False when it changed nothing (duplicate, too late, not an outcome)."""
        day = local_day(event.occurred_at, tz)
        if isinstance(event, Enrollment):
            if event.event_id in self.retracted:  # its retraction came first
                return False
            row = [event.program, event.status, int(event.occurred_at.timestamp()), day, event.unit_id,
                   event.reason, event.organisation]
            return self._keep(self.enrolments, event.event_id, row)
        if isinstance(event, Retraction):
            if self.enrolments.pop(event.retracts, None) is not None:
                # enrolments are never folded away, so taking one back is never too late (and a re-sent
                # enrolment after a worker's restart finds its retraction re-sent after it too)
                self.retracted.setdefault(event.retracts, local_day(event.retracted_occurred_at, tz))
                return True
            rday = local_day(event.retracted_occurred_at, tz)
            if self.frontier is not None and rday < self.frontier:
                self.late_ignored += 1
                return False
            self.retracted[event.retracts] = rday
            self.enrolments.pop(event.retracts, None)
            return True
        fact = outcome_fact(event, day)
        if fact is None:
            return False
        if self.frontier is not None and day < self.frontier:
            self.late_ignored += 1
            return False
        changed = self._keep(self.pending, event.event_id, fact)
        if self.max_day is None or day > self.max_day:
            self.max_day = day
            target = day - self.horizon_days
            if self.frontier is None or target - self.frontier >= 28:  # settle in batches of a month
                self._settle(target)
        return changed

    @staticmethod
    def _keep(store: dict[str, list[Any]], event_id: str, row: list[Any]) -> bool:
        old = store.get(event_id)
        if old is not None:
            # the same id with other content: keep the smaller, so that arrival order cannot matter
            if json.dumps(row) < json.dumps(old):
                store[event_id] = row
                return True
            return False
        store[event_id] = row
        return True

    def _settle(self, frontier: int) -> None:
        """Fold every fact before `frontier` into the monthly totals and forget it."""
        live = {k: f for k, f in self.pending.items() if k not in self.retracted}
        due = {k: f for k, f in live.items() if f[1] < frontier}
        stays = pair_stays(live.values())
        for k, f in list(due.items()):
            if f[0] in ("a", "d"):
                adm, dis = stays.get(f[3], (None, None))
                if adm is not None and dis is not None and dis[1] < frontier:
                    continue  # a whole stay, settled together
                if f[1] >= frontier - ORPHAN_DAYS:
                    del due[k]  # waits for its other half
                else:
                    self.orphans_dropped += 1
        self.tail = fold_facts(list(due.values()), self.settled, self.tail, self.occasion_gap_days,
                               self.short_term_days)
        for k in due:
            del self.pending[k]
        for k in [k for k in self.pending if k in self.retracted]:
            if self.retracted[k] < frontier:
                del self.pending[k]
        # retraction markers are kept (retractions are rare): an event re-sent after a worker's restart,
        # perhaps months of event time later, must still find that it was taken back
        self.frontier = frontier

    # -- reading ----------------------------------------------------------------------------------
    def months(self) -> Months:
        """Monthly totals of everything known: the settled months plus the pending facts folded in."""
        out = copy.deepcopy(self.settled)
        facts = [f for k, f in self.pending.items() if k not in self.retracted]
        fold_facts(facts, out, list(self.tail) if self.tail else None, self.occasion_gap_days, self.short_term_days)
        return out

    def gone_since(self, day: int) -> int | None:
        """The first day on or after `day` on which the person left a programme (any) because they moved
        or died: their later months are unknown to the monitor. None: not known to have gone."""
        return min((r[3] for r in self.enrolments.values()
                    if r[1] == "left" and r[5] in CENSORING_REASONS and r[3] >= day), default=None)

    def episodes(self, program: str) -> list[Episode]:
        """Memberships of `program`: a `joined` opens one, a `left` closes it (in event-time order)."""
        rows = sorted((r[2], k, r) for k, r in self.enrolments.items() if r[0] == program)
        out: list[Episode] = []
        open_: list[Any] | None = None
        for _, _, (prog, status, _, day, unit, reason, organisation) in rows:
            if status == "joined" and open_ is None:
                open_ = [day, unit, organisation]
            elif status == "left" and open_ is not None:
                out.append(Episode(prog, open_[0], day, open_[1], reason, open_[2]))
                open_ = None
        if open_ is not None:
            out.append(Episode(program, open_[0], None, open_[1], None, open_[2]))
        return out

    # -- state ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "horizon_days": self.horizon_days, "occasion_gap_days": self.occasion_gap_days,
            "short_term_days": self.short_term_days,
            "settled": {month_label(m): {"values": dict(sorted(t.values.items())), "units": sorted(t.units),
                                         "organisations": sorted(t.organisations),
                                         "days": {str(d): dict(sorted(v.items())) for d, v in sorted(t.days.items())}}
                        for m, t in sorted(self.settled.items())},
            "pending": self.pending, "enrolments": self.enrolments, "retracted": self.retracted,
            "tail": self.tail, "frontier": self.frontier, "max_day": self.max_day,
            "late_ignored": self.late_ignored, "orphans_dropped": self.orphans_dropped,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PersonLedger:
        """Reads this version, version 2 (settled months without their days) and version 1 (no organisations,
        no reasons: a v1 fact gets organisation "", a v1 enrolment row reason and organisation None)."""
        version = d.get("schema")
        if version not in READABLE_VERSIONS:
            raise ValueError(f"ledger schema {version!r}, expected one of {READABLE_VERSIONS}")
        old = version == 1
        return cls(
            horizon_days=int(d["horizon_days"]), occasion_gap_days=int(d["occasion_gap_days"]),
            short_term_days=int(d["short_term_days"]),
            settled={parse_month(k): MonthTotals({m: float(v) for m, v in t["values"].items()}, set(t["units"]),
                                                 set(t.get("organisations", ())),
                                                 {int(d): {m: float(x) for m, x in v.items()}
                                                  for d, v in t.get("days", {}).items()})
                     for k, t in d["settled"].items()},
            pending={k: [*v, ""] if old else list(v) for k, v in d["pending"].items()},
            enrolments={k: [*v, None, None] if old else list(v) for k, v in d["enrolments"].items()},
            retracted={k: int(v) for k, v in d["retracted"].items()},
            tail=list(d["tail"]) if d["tail"] is not None else None,
            frontier=d["frontier"], max_day=d["max_day"],
            late_ignored=int(d["late_ignored"]), orphans_dropped=int(d["orphans_dropped"]),
        )


def step(state: dict[str, Any] | None, event: PersonEvent, tz: str = "Europe/Stockholm",
         horizon_days: int = 60) -> tuple[dict[str, Any], bool]:
    """State in, state out: what a stream processor keeps per person key (a changelog-backed table's value),
    and whether the event changed it."""
    ledger = PersonLedger.from_dict(state) if state else PersonLedger(horizon_days=horizon_days)
    changed = ledger.add(event, tz)
    return ledger.to_dict(), changed


@dataclass(slots=True)
class LedgerBook:
    """Every person's ledger, keyed by the person key of the events (a pseudonym in the pipeline)."""

    persons: dict[str, PersonLedger] = field(default_factory=dict)
    horizon_days: int = 60
    tz: str = "Europe/Stockholm"

    def add(self, event: PersonEvent) -> bool:
        ledger = self.persons.get(event.person_id)
        if ledger is None:
            ledger = self.persons[event.person_id] = PersonLedger(horizon_days=self.horizon_days)
        return ledger.add(event, self.tz)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "tz": self.tz, "horizon_days": self.horizon_days,
                "persons": {k: p.to_dict() for k, p in self.persons.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LedgerBook:
        if d.get("schema") not in READABLE_VERSIONS:
            raise ValueError(f"ledger book schema {d.get('schema')!r}, expected one of {READABLE_VERSIONS}")
        return cls({k: PersonLedger.from_dict(p) for k, p in d["persons"].items()}, int(d["horizon_days"]),
                   str(d["tz"]))

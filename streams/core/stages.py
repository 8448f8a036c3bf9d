"""The three stages of the monitor, as pure functions over explicit state.

person (keyed by pseudonym) -> unit (keyed by unit id) -> organisation (one key).
`replay` runs them in one process; the live agents run each behind its own topic. Both call these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.config import MonitorConfig
from streams.core.facts import fact_of
from streams.core.person import Outcome, PersonState, PersonTracker
from streams.core.timebase import epoch, local_day
from streams.core.unit import DaySummary, UnitState, UnitTracker, group_by_unit
from streams.models.events import PersonEvent, Staffing
from streams.models.flags import Flag

CARE_EVENTS = frozenset({"emergency_visit", "admission", "discharge", "home_care_contact", "enrollment"})


@dataclass(slots=True)
class UnitUpdate:
    """What a person (or a staffing report) tells one unit. Holds a pseudonym, never a person id."""

    unit_id: str
    source: str | None = None  # the person's pseudonym
    seq: int = 0  # the person's event counter, to recognise a re-sent update
    deltas: list[tuple[str, int, float]] = field(default_factory=list)
    presence: list[tuple[str, int]] = field(default_factory=list)
    staffing: tuple[int, str, int, int, int] | None = None  # (t, event_id, day, headcount, arrival)


@dataclass(slots=True)
class PersonStageResult:
    outcome: Outcome
    flags: list[Flag]
    unit_updates: list[UnitUpdate]


class PersonStage:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.tracker = PersonTracker(config)

    def handle(self, state: PersonState, event: PersonEvent, arrival: int, subject: str) -> PersonStageResult:
        fact = fact_of(event, self.config.timezone)
        result = self.tracker.apply(state, fact, arrival, subject)
        if result.outcome is not Outcome.ACCEPTED:
            return PersonStageResult(result.outcome, [], [])
        seq = state.seq
        by_unit = group_by_unit(result.deltas)
        updates = {u: UnitUpdate(u, subject, seq, deltas) for u, deltas in by_unit.items()}
        if event.event_type in CARE_EVENTS:
            update = updates.setdefault(event.unit_id, UnitUpdate(event.unit_id, subject, seq))
            update.presence.append((subject, fact.day))
        return PersonStageResult(result.outcome, result.flags, [updates[u] for u in sorted(updates)])


def staffing_update(event: Staffing, arrival: int, tz: str) -> UnitUpdate:
    day = local_day(event.occurred_at, tz)
    return UnitUpdate(event.unit_id, staffing=(epoch(event.occurred_at), event.event_id, day,
                                               event.headcount, arrival))


@dataclass(slots=True)
class UnitStageResult:
    staffing_outcome: str | None
    summaries: list[DaySummary]


class UnitStage:
    def __init__(self, config: MonitorConfig) -> None:
        self.tracker = UnitTracker(config)

    def handle(self, state: UnitState, update: UnitUpdate) -> UnitStageResult:
        summaries: list[DaySummary] = []
        outcome = None
        if update.source is not None:
            if update.seq <= state.last_seq.get(update.source, (0, 0))[0]:
                return UnitStageResult("duplicate", [])  # re-sent after a worker restart
            days = [d for _, d, _ in update.deltas] + [d for _, d in update.presence]
            state.last_seq[update.source] = (update.seq, max([state.clock_day, *days]))
        if update.staffing is not None:
            t, event_id, day, headcount, arrival = update.staffing
            outcome, out = self.tracker.add_staffing(state, t, event_id, day, headcount, arrival)
            summaries += out
        if update.deltas:
            summaries += self.tracker.add_contributions(state, update.deltas)
        for pseudonym, day in update.presence:
            summaries += self.tracker.add_presence(state, pseudonym, day)
        # Later summaries of the same day supersede earlier ones.
        latest = {s.day: s for s in summaries}
        return UnitStageResult(outcome, [latest[d] for d in sorted(latest)])

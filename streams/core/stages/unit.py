"""The unit step: what a person (or a staffing report) tells one unit (`UnitUpdate`), applied to the
unit's state (`UnitStage`), and what it did (`UnitStep`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from streams.core.config import MonitorConfig
from streams.core.lateness import too_late
from streams.core.stages.admit import Counts
from streams.core.timebase import epoch, local_day
from streams.core.unit.summary import DaySummary
from streams.core.unit.tracker import UnitState, UnitTracker, UpdateOutcome
from streams.models.events import Staffing
from streams.models.rejections import Rejection


class StaffingReport(NamedTuple):
    t: int  # epoch seconds of occurred_at
    event_id: str
    day: int
    headcount: int
    arrival: int  # epoch seconds


@dataclass(slots=True)
class UnitUpdate:
    """What a person (or a staffing report) tells one unit. Holds a pseudonym, never a person id."""

    unit_id: str
    source: str | None = None  # the person's pseudonym
    seq: int = 0  # the person's event counter, to recognise a re-sent update
    deltas: list[tuple[str, int, float]] = field(default_factory=list)
    presence: list[tuple[str, int]] = field(default_factory=list)
    staffing: StaffingReport | None = None
    source_offset: str | None = None  # the record it came from (named in a rejection), between stages
    organisation: str | None = None  # the organisation the event names, for the unit it names


@dataclass(slots=True)
class UnitStep:
    """What one update did to a unit: None for a person's update applied (only a staffing report or a
    re-sent update has an outcome of its own)."""

    outcome: UpdateOutcome | None
    summaries: list[DaySummary] = field(default_factory=list)
    rejection: Rejection | None = None

    @property
    def applied(self) -> bool:
        """The update changed the unit's state (neither seen before nor too late)."""
        return self.outcome is None or self.outcome is UpdateOutcome.APPLIED


def staffing_update(event: Staffing, arrival: int, tz: str) -> UnitUpdate:
    day = local_day(event.occurred_at, tz)
    return UnitUpdate(event.unit_id, staffing=StaffingReport(epoch(event.occurred_at), event.event_id, day,
                                                             event.headcount, arrival),
                      organisation=event.organisation)


class UnitStage:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.tracker = UnitTracker(config)

    def step(self, state: UnitState, update: UnitUpdate, counts: Counts, source_offset: str | None) -> UnitStep:
        """One update (a person's contributions, or a staffing report) against the unit's state."""
        result = self.handle(state, update)
        staffing = update.staffing
        if result.outcome is UpdateOutcome.DUPLICATE:
            # a staffing report seen before is a duplicate event; a person's update seen before is a
            # re-send after a worker restart
            counts.duplicate() if update.source is None else counts.resent()
        elif result.outcome is UpdateOutcome.TOO_LATE and staffing is not None:
            result.rejection = too_late(self.config, staffing.arrival, staffing.event_id, source_offset)
            counts.rejected(result.rejection.reason.value)
        elif staffing is not None:
            counts.accepted("staffing", staffing.t, staffing.arrival)
        return result

    def handle(self, state: UnitState, update: UnitUpdate) -> UnitStep:
        """`step` without counting or rejecting."""
        summaries: list[DaySummary] = []
        outcome = None
        source = update.source
        if source is not None:
            if update.seq <= state.applied_seq(source):
                return UnitStep(UpdateOutcome.DUPLICATE)  # re-sent after a worker restart
            latest_day = state.clock_day
            for _, d, _ in update.deltas:
                if d > latest_day:
                    latest_day = d
            for _, d in update.presence:
                if d > latest_day:
                    latest_day = d
            state.mark_applied(source, update.seq, latest_day)
        if update.organisation is not None and state.organisation is None:
            state.organisation = update.organisation
        if update.staffing is not None:
            t, event_id, day, headcount, arrival = update.staffing
            outcome, out = self.tracker.add_staffing(state, t, event_id, day, headcount, arrival)
            summaries += out
        if update.deltas:
            summaries += self.tracker.add_contributions(state, update.deltas)
        for pseudonym, day in update.presence:
            # the key object of `last_seq`, so that a person's two entries in the unit share one string
            key = source if source is not None and pseudonym == source else pseudonym
            summaries += self.tracker.add_presence(state, key, day)
        if not summaries:
            return UnitStep(outcome, summaries)
        # Later summaries of the same day supersede earlier ones (of the same peer group: the update that names
        # the unit's organisation can send a day to the default group and then to the organisation's).
        latest = {(s.day, s.organisation is not None): s for s in summaries}
        return UnitStep(outcome, [latest[k] for k in sorted(latest)])

"""The whole monitor in one process: decode -> person -> unit -> organisation. What `replay` runs.

The arrival time of an event, which decides whether it is too late, is the running maximum of
`occurred_at` in arrival order (the stream's event-time clock), unless the caller passes one (the live
worker passes the Kafka record timestamp, which `publish` sets to the same clock).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

from streams.core.config import MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.groups import DEFAULT_GROUP, by_group
from streams.core.org.state import OrgState
from streams.core.person.tracker import PersonState
from streams.core.programme.ledger import PersonLedger
from streams.core.programme.stage import ProgrammeFigures, ProgrammeStage
from streams.core.programme.surveys import Folded, SurveyStore
from streams.core.pseudonym import Pseudonymiser
from streams.core.stages import (
    Admit,
    Destination,
    PersonStage,
    UnitStage,
    UnitUpdate,
    person_input,
    route,
    staffing_update,
    survey_counted,
)
from streams.core.stream_clock import StreamClock
from streams.core.timebase import epoch, from_epoch, local_day
from streams.core.unit.indicators import UnitIndicators, unit_indicators
from streams.core.unit.tracker import UnitState
from streams.models.events import Event, PersonEvent, Staffing, SurveyResponse
from streams.models.flags import Flag, FlagStatus
from streams.models.rejections import Rejection


@dataclass(slots=True)
class Tally:
    """What `replay` reports at the end."""

    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    flags_raised: Counter[str] = field(default_factory=Counter)
    flags_withdrawn: Counter[tuple[str, str]] = field(default_factory=Counter)  # by (rule, withdrawn_because)
    retractions: Counter[str] = field(default_factory=Counter)  # what accepted retractions did (Retracted)

    def add(self, other: Tally) -> None:
        """Another part's counts into these (`replay --jobs`: each shard counts its own events)."""
        self.read += other.read
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        for mine, theirs in ((self.rejected, other.rejected), (self.by_type, other.by_type),
                             (self.flags_raised, other.flags_raised), (self.retractions, other.retractions)):
            mine.update(theirs)
        self.flags_withdrawn.update(other.flags_withdrawn)


class TallyCounts:
    """Replay's `Counts` (core/stages/admit.py): into the tally."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally

    def accepted(self, event_type: str, occurred: int, arrival: int) -> None:
        self.tally.accepted += 1
        self.tally.by_type[event_type] += 1

    def rejected(self, reason: str) -> None:
        self.tally.rejected[reason] += 1

    def duplicate(self) -> None:
        self.tally.duplicates += 1

    def resent(self) -> None:  # replay never sends anything twice
        pass

    def retraction(self, outcome: str) -> None:
        self.tally.retractions[outcome] += 1


@dataclass(slots=True)
class StepResult:
    rejection: Rejection | None = None
    duplicate: bool = False
    held: bool = False  # the stream's clock holds the line for now (see Monitor.feed)
    flags: list[Flag] = field(default_factory=list)


@dataclass(slots=True)
class PersonSide:
    """What an event did before the unit stage (`Monitor.person_side`): a rejection, the person's flags,
    what it tells units; a survey answer for the programmes' one store; a new programme ledger's key (so
    that ledgers merged from shards keep the order they were made in)."""

    rejection: Rejection | None = None
    duplicate: bool = False
    flags: list[Flag] = field(default_factory=list)
    unit_updates: list[UnitUpdate] = field(default_factory=list)
    staffing: bool = False  # a staffing report: the unit stage decides whether it is taken
    survey: SurveyResponse | None = None
    survey_times: tuple[int, int] = (0, 0)  # the survey answer's occurred_at and arrival, epoch seconds
    new_ledger: str | None = None


class Monitor:
    """The stages of core/stages/ in one loop, each event through all of them before the next."""

    def __init__(self, config: MonitorConfig, pseudonymise: Pseudonymiser, *, keep_ledgers: bool = False) -> None:
        """`keep_ledgers`: keep the programme ledgers even with no programme configured (the report)."""
        self.config = config
        self.admit = Admit(config, pseudonymise)
        self.person_stage = PersonStage(config)
        self.unit_stage = UnitStage(config)
        self.org_drift = OrgDrift(config)
        self.persons: dict[str, PersonState] = {}
        self.units: dict[str, UnitState] = {}
        #: one organisation state per peer group (core/org/groups.py), by its key
        self.groups: dict[str, OrgState] = {}
        self.programme_stage = ProgrammeStage(config)
        self.keep_ledgers = keep_ledgers or self.programme_stage.enabled
        self.ledgers: dict[str, PersonLedger] = {}  # programme ledgers, by pseudonym (none if no programme)
        self.surveys = SurveyStore()  # survey answers for the programmes (empty if no programme)
        self.flags: dict[str, Flag] = {}
        #: every version of every flag, withdrawals included, in the order made: what the worker sends to
        #: the flags topic (`replay --flags-out`)
        self.flag_stream: list[Flag] = []
        self.tally = Tally()
        self.counts = TallyCounts(self.tally)
        self.clock: StreamClock[tuple[Event, str | None, int]] = StreamClock(config.max_ahead_s)
        self._offered: Event | None = None

    def feed(self, raw: bytes | str, now: dt.datetime, *,
             source_offset: str | None = None) -> list[tuple[Event | None, StepResult]]:
        """One line, in arrival order, on the stream's own clock (core/stream_clock.py). Returns the
        results of the lines this one releases: itself, lines held before it, or nothing while it is
        held itself; each with its event (None for a line that did not decode)."""
        self.tally.read += 1
        decoded = self.admit.decode(raw, now, source_offset, self.counts)
        if isinstance(decoded, Rejection):
            return [(None, StepResult(rejection=decoded))]
        self._offered = decoded
        occurred = epoch(decoded.occurred_at)
        released = self.clock.offer(occurred, (decoded, source_offset, occurred), decoded.event_id)
        return [(event, self._admit(event, arrival, offset, t)) for (event, offset, t), arrival in released]

    def finish(self) -> list[tuple[Event | None, StepResult]]:
        """The end of the input: the results of the lines still held (late facts are folded in by the
        person stage with the event that brought them, as in the worker)."""
        return [(event, self._admit(event, arrival, offset, t)) for (event, offset, t), arrival in self.clock.drain()]

    def process(self, raw: bytes | str, now: dt.datetime, *, arrival: int | None = None,
                source_offset: str | None = None) -> StepResult:
        """One line and its result (`held` while the stream's clock holds it; see `feed`). With
        `arrival`, the line arrives at that time instead of on the stream's clock."""
        if arrival is None:
            results = self.feed(raw, now, source_offset=source_offset)
            if results and results[0][0] is None:
                return results[0][1]
            mine = [r for event, r in results if event is not None and event is self._offered]
            result = mine[0] if mine else StepResult(held=True)
        else:
            self.tally.read += 1
            decoded = self.admit.decode(raw, now, source_offset, self.counts)
            if isinstance(decoded, Rejection):
                return StepResult(rejection=decoded)
            result = self._admit(decoded, arrival, source_offset)
        return result

    def _admit(self, event: Event, arrival: int, source_offset: str | None,
               occurred: int | None = None) -> StepResult:
        return self.unit_side(self.person_side(event, arrival, source_offset, occurred), source_offset)

    def person_side(self, event: Event, arrival: int, source_offset: str | None,
                    occurred: int | None = None) -> PersonSide:
        """An event up to the unit stage: the door, and the person stage for a person's event. Depends only
        on the event's own person (what `replay --jobs` runs in the person's shard)."""
        duplicates = self.tally.duplicates
        admitted = self.admit.admit(event, arrival, source_offset, self.counts, occurred)
        if isinstance(admitted, Rejection):
            return PersonSide(rejection=admitted)
        event = admitted.event
        destination, key = route(admitted)
        if destination is Destination.SURVEY:
            occurred = admitted.occurred if admitted.occurred is not None else epoch(event.occurred_at)
            if not self.keep_ledgers:  # dropped when no programme is followed
                self.counts.accepted(event.event_type, occurred, admitted.arrival)
                return PersonSide()
            survey = admitted.pseudonymised()
            assert isinstance(survey, SurveyResponse)
            return PersonSide(survey=survey, survey_times=(occurred, admitted.arrival))
        if destination is Destination.STAFFING:
            assert isinstance(event, Staffing)
            return PersonSide(unit_updates=[staffing_update(event, admitted.arrival, self.config.timezone)],
                              staffing=True)
        side = PersonSide()
        state = self.persons.get(key)
        if state is None:
            state = self.persons[key] = PersonState()
        step = self.person_stage.step(state, person_input(admitted, self.config.timezone), self.counts)
        if step.to_programmes and self.keep_ledgers:
            ledger = self.ledgers.get(key)
            if ledger is None:
                ledger = self.ledgers[key] = self.programme_stage.fresh()
                side.new_ledger = key
            self.programme_stage.step(ledger, cast(PersonEvent, event))  # routed here: a person event
        side.rejection, side.flags, side.unit_updates = step.rejection, step.flags, step.unit_updates
        side.duplicate = self.tally.duplicates > duplicates
        return side

    def unit_side(self, side: PersonSide, source_offset: str | None) -> StepResult:
        """The rest of an event's way: its unit updates through the unit and organisation stages, in the
        order of the events (what `replay --jobs` runs in its one main process)."""
        if side.survey is not None:  # counted here, where the one store says what the answer did
            folded = self.programme_stage.survey_step(self.surveys, side.survey)
            occurred, arrival = side.survey_times
            rejection = survey_counted(folded, side.survey, occurred, arrival, source_offset, self.counts)
            return StepResult(rejection=rejection, duplicate=folded is Folded.DUPLICATE)
        duplicates = self.tally.duplicates
        flags = list(side.flags)
        rejection = side.rejection
        for update in side.unit_updates:
            unit_rejection = self._to_unit(update, flags, source_offset)
            if side.staffing:
                rejection = unit_rejection
        if rejection is not None:  # a rejected event may still withdraw what it voids (a conflict)
            self._record(flags)
            return StepResult(rejection=rejection, flags=flags)
        if side.duplicate or self.tally.duplicates > duplicates:
            return StepResult(duplicate=True)
        self._record(flags)
        return StepResult(flags=flags)

    def _to_unit(self, update: UnitUpdate, flags: list[Flag], source_offset: str | None) -> Rejection | None:
        state = self.units.get(update.unit_id)
        if state is None:
            state = self.units[update.unit_id] = UnitState(update.unit_id)
        step = self.unit_stage.step(state, update, self.counts, source_offset)
        if step.summaries:
            for group, summaries in by_group(step.summaries).items():
                flags += self.org_drift.apply(self.group(group), summaries)
        return step.rejection

    def group(self, key: str) -> OrgState:
        """A peer group's organisation state (a new one for a group not met before)."""
        state = self.groups.get(key)
        if state is None:
            state = self.groups[key] = OrgState()
        return state

    @property
    def org(self) -> OrgState:
        """The default peer group's state: every unit's when no event names an organisation."""
        return self.group(DEFAULT_GROUP)

    @org.setter
    def org(self, state: OrgState) -> None:
        self.groups[DEFAULT_GROUP] = state

    def _record(self, flags: list[Flag]) -> None:
        self.flag_stream += flags
        for flag in flags:
            if flag.status is FlagStatus.WITHDRAWN:
                because = flag.withdrawn_because.value if flag.withdrawn_because is not None else "late_data"
                self.tally.flags_withdrawn[(flag.rule.value, because)] += 1
                self.flags.pop(flag.flag_id, None)
            else:
                if flag.flag_id not in self.flags:
                    self.tally.flags_raised[flag.rule.value] += 1
                self.flags[flag.flag_id] = flag

    def open_flags(self) -> list[Flag]:
        """The current flags (last record per id, withdrawn ones left out), in a stable order."""
        return sorted(self.flags.values(), key=lambda f: (f.raised_at, f.flag_id))

    def programme_figures(self, quarter: str | None = None, only: str | None = None) -> list[ProgrammeFigures]:
        """The configured programmes' figures for `quarter` (default: that of the last complete month)."""
        return self.programme_stage.figures(self.ledgers, quarter, only, self.surveys)

    def unit_indicators(self) -> list[UnitIndicators]:
        return [unit_indicators(self.units[u], self.config) for u in sorted(self.units)]

    def person_indicators(self) -> list[dict[str, object]]:
        """Each person's 12-month figures, of the persons this monitor holds."""
        persons = []
        window = self.config.rules.repeated_sick_leave_window_days
        for subject in sorted(self.persons):
            fold = self.person_stage.tracker.current(self.persons[subject], subject)
            if not fold.last_t:
                continue
            today = local_day(from_epoch(fold.last_t), self.config.timezone)
            occasions, days, _ = fold.sick_leave_window(today, window)
            persons.append({"subject_id": subject, "sick_leave_occasions_12m": occasions,
                            "sick_days_12m": days, "bradford_factor": occasions * occasions * days,
                            "ed_visits_12m": len(fold.ed_visits)})
        return persons

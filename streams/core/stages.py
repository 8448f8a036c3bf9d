"""The pipeline, defined once: admit -> person -> unit -> organisation, pure functions over explicit state.

admit (stateless: decode, validate, arrival time, pseudonymise) -> person (keyed by pseudonym) -> unit
(keyed by unit id) -> organisation (one key); `route` says where an admitted event goes. `replay`
(core/monitor.py) runs the steps in one loop; the live agents (streams/agents/) run each behind its own
topic and only move what the steps return. Each step returns one result type (`PersonStep`, `UnitStep`).
What a step counts goes through `Counts`, which replay's tally and the worker's metrics both implement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple, Protocol

import msgspec

from streams.core.config import MonitorConfig
from streams.core.decode import decode_event
from streams.core.handling.consent import ConsentChange
from streams.core.lateness import too_late
from streams.core.person.facts import Fact, fact_of
from streams.core.person.redelivery import mark_taken, source_place, taken_before
from streams.core.person.tracker import Outcome, PersonState, PersonTracker, Retracted
from streams.core.programme.surveys import Folded
from streams.core.pseudonym import Pseudonymiser
from streams.core.timebase import epoch, local_day
from streams.core.unit.summary import DaySummary
from streams.core.unit.tracker import UnitState, UnitTracker, UpdateOutcome, group_by_unit
from streams.models.events import Event, PersonEvent, Staffing, SurveyResponse
from streams.models.flags import Flag
from streams.models.rejections import Rejection, RejectReason
from streams.models.vocab import CARE_EVENT_KINDS, EventKind


class Counts(Protocol):
    """What the steps count. Replay keeps a tally; the worker turns it into Prometheus metrics."""

    def accepted(self, event_type: str, occurred: int, arrival: int) -> None: ...

    def rejected(self, reason: str) -> None: ...

    def duplicate(self) -> None: ...

    def resent(self) -> None: ...

    def retraction(self, outcome: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Admitted:
    """A valid event with its arrival time (epoch seconds) and, for a person event, the person's
    pseudonym: everything after the door uses `subject`, never `event.person_id`."""

    event: Event
    subject: str | None
    arrival: int
    source_offset: str | None
    occurred: int | None = None  # epoch seconds of occurred_at, when the door has computed it

    def pseudonymised(self) -> Event:
        """The event with the pseudonym in place of the person id (what leaves the door)."""
        if self.subject is None:
            return self.event
        return self.event.model_copy(update={"person_id": self.subject})

    def pseudonymised_json(self) -> bytes:
        """`pseudonymised()` as the wire's JSON, byte for byte what its `model_dump_json()` writes (a property
        test holds it over every event type), made from the event's own fields without copying the model:
        ~0.7 µs against ~5 µs, once for every event the worker's door passes on."""
        fields = dict(self.event.__dict__)  # the fields in their declared order, as pydantic writes them
        if self.subject is not None:
            fields["person_id"] = self.subject
        return _WIRE_JSON.encode(fields)


_WIRE_JSON = msgspec.json.Encoder()


class Admit:
    """The door: bytes in, an `Admitted` event or a `Rejection` out. `arrival` says when an event
    arrived (replay: the stream's clock; the worker: the `om-arrival` header or the record timestamp)."""

    def __init__(self, config: MonitorConfig, pseudonymise: Pseudonymiser) -> None:
        self.config, self.pseudonymise = config, pseudonymise
        self.max_future = dt.timedelta(hours=config.max_future_hours)

    def __call__(self, raw: bytes | str, now: dt.datetime, source_offset: str | None,
                 arrival: Callable[[Event], int | Rejection], counts: Counts) -> Admitted | Rejection:
        decoded = self.decode(raw, now, source_offset, counts)
        if isinstance(decoded, Rejection):
            return decoded
        return self.admit(decoded, arrival(decoded), source_offset, counts)

    def decode(self, raw: bytes | str, now: dt.datetime, source_offset: str | None,
               counts: Counts) -> Event | Rejection:
        decoded = decode_event(raw, now, max_bytes=self.config.max_message_bytes, max_future=self.max_future,
                               source_offset=source_offset)
        if isinstance(decoded, SurveyResponse):
            decoded = self.scale_checked(decoded, source_offset)
        if isinstance(decoded, Rejection):
            counts.rejected(decoded.reason.value)
        return decoded

    def scale_checked(self, event: SurveyResponse, source_offset: str | None) -> SurveyResponse | Rejection:
        """A survey answer must be a level of a declared scale (`MonitorConfig.survey_scales`). The message
        names what is declared, never what was sent."""
        scales = self.config.survey_scales
        levels = scales.get(event.scale)
        if levels is None:
            message = (f"scale: not a declared scale; declared: {', '.join(sorted(scales))}" if scales else
                       "scale: no survey scale is declared (MonitorConfig.survey_scales)")
        elif event.answer not in levels:
            message = f"answer: not a level of the scale {event.scale}; its levels: {', '.join(levels)}"
        else:
            return event
        return Rejection(reason=RejectReason.UNKNOWN_SCALE_LEVEL, message=message, event_id=event.event_id,
                         source_offset=source_offset, field="scale" if levels is None else "answer")

    def admit(self, event: Event, arrived: int | Rejection, source_offset: str | None,
              counts: Counts, occurred: int | None = None) -> Admitted | Rejection:
        """A decoded event with its arrival time: one far ahead of it is `ahead_of_stream`."""
        if isinstance(arrived, Rejection):
            counts.rejected(arrived.reason.value)
            return arrived.model_copy(update={"event_id": event.event_id})
        occurred = epoch(event.occurred_at) if occurred is None else occurred
        ahead = occurred - arrived
        if ahead > self.config.max_ahead_s:
            counts.rejected(RejectReason.AHEAD_OF_STREAM.value)
            return Rejection(
                reason=RejectReason.AHEAD_OF_STREAM, event_id=event.event_id, source_offset=source_offset,
                message=f"occurred_at is {ahead / 86400:.1f} days after the stream's own time (its arrival "
                        f"clock), more than the {self.config.max_ahead_days:g} allowed, and the stream did "
                        "not move on with it: a mistyped date? (README: the stream's clock)", field="occurred_at")
        if isinstance(event, Staffing) or (isinstance(event, SurveyResponse) and event.person_id is None):
            return Admitted(event, None, arrived, source_offset, occurred)
        assert event.person_id is not None
        return Admitted(event, self.pseudonymise(event.person_id), arrived, source_offset, occurred)


class Destination(StrEnum):
    """Where an admitted event goes."""

    PERSON = "person"  # the person stage, by pseudonym: person events and retractions (they void one of
    # the person's events); what it accepts goes on to the programmes too (`PersonStep.to_programmes`)
    STAFFING = "staffing"  # the unit stage, by unit id
    SURVEY = "survey"  # the programmes only: neither a person's nor a unit's figures


class Route(NamedTuple):
    destination: Destination
    key: str  # the pseudonym ("" for an anonymous survey answer), or the unit id


def route(admitted: Admitted) -> Route:
    """Where an admitted event goes, and under which key: the one place replay and the worker decide it."""
    event = admitted.event
    if isinstance(event, Staffing):
        return Route(Destination.STAFFING, event.unit_id)
    if isinstance(event, SurveyResponse):
        return Route(Destination.SURVEY, admitted.subject or "")
    return Route(Destination.PERSON, admitted.subject or "")


class PersonInput(NamedTuple):
    """An admitted person event as the person stage reads it: its fact (`core/person/facts.py`: time, id,
    kind, unit, day and what the kind adds), the organisation it names, the person's pseudonym, and when
    and from where it arrived. Made once, at the door (`person_input`): replay hands it to the stage
    directly, the worker's ingest sends it in the person event's message, so that the person stage neither
    validates nor converts the event again."""

    subject: str
    fact: Fact
    organisation: str | None
    arrival: int
    source_offset: str | None


def person_input(admitted: Admitted, timezone: str) -> PersonInput:
    """The person stage's input of an admitted event routed to `Destination.PERSON`."""
    event: PersonEvent = admitted.event  # type: ignore[assignment]
    return PersonInput(admitted.subject or "", fact_of(event, timezone, admitted.occurred), event.organisation,
                       admitted.arrival, admitted.source_offset)


def survey_counted(folded: Folded, event: SurveyResponse, occurred: int, arrival: int, source_offset: str | None,
                   counts: Counts) -> Rejection | None:
    """Count what folding a survey answer into the programmes' store did, as a person event's step counts
    the same: accepted, a duplicate (a re-send), or a conflicting duplicate, rejected (neither answer of a
    void id is used). Replay and the programmes agent count with this."""
    if folded is Folded.ADDED:
        counts.accepted(event.event_type, occurred, arrival)
        return None
    if folded is Folded.DUPLICATE:
        counts.duplicate()
        return None
    counts.rejected(RejectReason.CONFLICTING_DUPLICATE.value)
    return Rejection(reason=RejectReason.CONFLICTING_DUPLICATE, event_id=event.event_id, source_offset=source_offset,
                     field="event_id", message="this event_id came before with another answer; neither answer is "
                     "used (a corrected answer needs a new event_id)")


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
class PersonStep:
    """What one person event (or folding a person's late facts in) did."""

    outcome: Outcome
    flags: list[Flag] = field(default_factory=list)
    unit_updates: list[UnitUpdate] = field(default_factory=list)
    rejection: Rejection | None = None
    consent: list[ConsentChange] = field(default_factory=list)  # joining or leaving a consent programme
    retracted: Retracted | None = None  # what an accepted retraction did
    # the event's place in its source is past every place taken from it (core/person/redelivery.py)
    place_marked: bool = False

    @property
    def accepted(self) -> bool:
        """The event was taken (neither a duplicate nor too late; a conflicting duplicate voids the id it
        repeats). One not taken may still have marked its place: `state_changed`."""
        return self.outcome is Outcome.ACCEPTED or self.outcome is Outcome.CONFLICTING

    @property
    def state_changed(self) -> bool:
        """The person's state is to be written: the event was accepted, or it was not and its place was
        marked taken (a stage that reads it again after a restart then knows it for a redelivery, and does
        not judge it, or dead-letter it, a second time)."""
        return self.place_marked or self.accepted

    @property
    def to_programmes(self) -> bool:
        """The programme ledgers take the event too: it was accepted as it is."""
        return self.outcome is Outcome.ACCEPTED and self.rejection is None


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


class PersonStage:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.tracker = PersonTracker(config)
        self._consent = config.consent_in_effect().programmes

    def step(self, state: PersonState, person: PersonInput, counts: Counts) -> PersonStep:
        """One admitted person event (`person_input`) against the person's state (keyed by its subject)."""
        subject, fact, source_offset = person.subject, person.fact, person.source_offset
        result = self.tracker.take(state, fact, person.arrival, subject)
        outcome = result.outcome
        place = source_place(source_offset)
        if outcome is Outcome.TOO_LATE and taken_before(state.taken, place):
            outcome = Outcome.DUPLICATE  # taken the first time, its id forgotten since
        marked = mark_taken(state.taken, place)
        if outcome is Outcome.DUPLICATE:
            counts.duplicate()
            return PersonStep(outcome, place_marked=marked)
        if outcome is Outcome.TOO_LATE:
            # measured against the person's clock (the latest arrival of the person's events), as the tracker did
            clock = max(state.clock, person.arrival)
            rejection = too_late(self.config, clock, fact.event_id, source_offset)
            counts.rejected(rejection.reason.value)
            return PersonStep(outcome, rejection=rejection, place_marked=marked)
        if outcome is Outcome.RETRACTION_TOO_LATE:
            rejection = Rejection(
                reason=RejectReason.TOO_LATE, event_id=fact.event_id, source_offset=source_offset,
                field="retracted_occurred_at",
                message="the retracted event is older than the allowed lateness and settled; it stays")
            counts.rejected(rejection.reason.value)
            return PersonStep(outcome, rejection=rejection, place_marked=marked)
        if outcome is Outcome.RETRACTS_A_RETRACTION:
            rejection = Rejection(
                reason=RejectReason.RETRACTS_A_RETRACTION, event_id=fact.event_id, field="retracts",
                source_offset=source_offset,
                message="retracts names a retraction, and a retraction is never taken back: to restore the "
                        "event it took back, send that event again under a new event_id")
            counts.rejected(rejection.reason.value)
            return PersonStep(outcome, rejection=rejection, place_marked=marked)
        seq = state.seq
        updates = {u: UnitUpdate(u, subject, seq, deltas) for u, deltas in group_by_unit(result.deltas).items()}
        consent = []
        if outcome is Outcome.ACCEPTED:
            if fact.kind in CARE_EVENT_KINDS:
                update = updates.get(fact.unit_id)
                if update is None:
                    update = updates[fact.unit_id] = UnitUpdate(fact.unit_id, subject, seq)
                update.presence.append((subject, fact.day))
            # The unit learns its organisation (its peer group) from what it is sent anyway: it keeps the
            # first one named, and its days reach the organisation stage only through contributions,
            # presence or staffing reports, so an update that told it the organisation alone (a sick-leave
            # report that changes none of its days yet) would be an update to apply and, in the worker, a
            # record to send for nothing.
            if person.organisation is not None:
                update = updates.get(fact.unit_id)
                if update is not None:
                    update.organisation = person.organisation
            if fact.kind is EventKind.ENROLLMENT and fact.ref in self._consent:
                # an enrolment's fact: `ref` its programme, `value` 1.0 when the person left it
                consent.append(ConsentChange(subject, fact.ref, fact.value == 0.0, fact.t, fact.event_id))
        ordered = list(updates.values()) if len(updates) < 2 else [updates[u] for u in sorted(updates)]
        if outcome is Outcome.CONFLICTING:
            rejection = Rejection(
                reason=RejectReason.CONFLICTING_DUPLICATE, event_id=fact.event_id,
                source_offset=source_offset, field="event_id",
                message="this event_id came before with other content; neither version is used (send a "
                        "retraction and a new event_id to correct a record)")
            counts.rejected(rejection.reason.value)
            # the id is void now
            return self._with_late_folded(state, PersonStep(outcome, result.flags, ordered, rejection), subject)
        counts.accepted(fact.kind, fact.t, person.arrival)
        if result.retracted is not None:
            counts.retraction(result.retracted.value)
        step = PersonStep(outcome, result.flags, ordered, consent=consent, retracted=result.retracted)
        return self._with_late_folded(state, step, subject)

    def _with_late_folded(self, state: PersonState, step: PersonStep, subject: str) -> PersonStep:
        """The one schedule of folding late facts in, for replay and the worker alike: at once, with the
        step that brought them. What goes out must not depend on where a batch ends (after a worker's crash
        the same records can come in batches cut elsewhere, and a flag sent before must then be sent again
        exactly as it was), and replay writes the flag versions the worker sends."""
        if state.late_from is None:
            return step
        folded = self.fold_late(state, subject)
        step.flags += folded.flags
        step.unit_updates += folded.unit_updates
        return step

    def fold_late(self, state: PersonState, subject: str) -> PersonStep:
        """Fold a person's late facts in (core/person/tracker.py); `step` does, after each late event.
        What they change goes out like any step's outputs."""
        result = self.tracker.fold_late(state, subject)
        if not (result.flags or result.deltas):
            return PersonStep(Outcome.ACCEPTED)
        state.seq += 1
        by_unit = group_by_unit(result.deltas)
        updates = [UnitUpdate(u, subject, state.seq, deltas) for u, deltas in sorted(by_unit.items())]
        return PersonStep(Outcome.ACCEPTED, result.flags, updates)


def staffing_update(event: Staffing, arrival: int, tz: str) -> UnitUpdate:
    day = local_day(event.occurred_at, tz)
    return UnitUpdate(event.unit_id, staffing=StaffingReport(epoch(event.occurred_at), event.event_id, day,
                                                             event.headcount, arrival),
                      organisation=event.organisation)


class UnitStage:
    def __init__(self, config: MonitorConfig, *, defer_summaries: bool = False) -> None:
        """`defer_summaries`: a summary of a day sent before is made once a batch, by `due_summaries`,
        instead of with each update that changes the day (the worker's unit agent; `UnitTracker`)."""
        self.config = config
        self.tracker = UnitTracker(config, defer=defer_summaries)

    def due_summaries(self, state: UnitState) -> list[DaySummary]:
        """With `defer_summaries`: the unit's summaries due, made now (before its state is written)."""
        return self.tracker.due_summaries(state)

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
            summaries += self.tracker.name_organisation(state, update.organisation)
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

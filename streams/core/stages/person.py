"""The person step: the person stage's input made at the door (`PersonInput`), one event or the late
facts folded into the person's state (`PersonStage`), and what it did (`PersonStep`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from streams.core.config import MonitorConfig
from streams.core.handling.consent import ConsentChange
from streams.core.lateness import too_late
from streams.core.person.facts import Fact, fact_of
from streams.core.person.redelivery import mark_taken, source_place, taken_before
from streams.core.person.tracker import Outcome, PersonState, PersonTracker, Retracted
from streams.core.programme.surveys import Folded
from streams.core.stages.admit import Admitted, Counts
from streams.core.stages.unit import UnitUpdate
from streams.core.unit.tracker import group_by_unit
from streams.models.events import PersonEvent, SurveyResponse
from streams.models.flags import Flag
from streams.models.rejections import Rejection, RejectReason
from streams.models.vocab import CARE_EVENT_KINDS, EventKind


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

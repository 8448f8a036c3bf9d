"""Messages between the worker's own agents, on its internal topics.

They are msgspec structs around the core's own types (`UnitUpdate`, `DaySummary`), encoded once where
they are made and decoded once where they are read: the core's types are not restated, and nothing is
validated twice. A release reads what the release before it wrote (the same field names; a person
event was an escaped JSON string then), so an upgrade in place never meets a message it cannot read.
The contract with the outside (events in, flags and dead letters out) stays pydantic (`streams/models`,
which generates `schemas/`). They carry pseudonyms, never person ids.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import msgspec

from streams.agents.runtime.records import InputRecord
from streams.core.person.facts import Fact
from streams.core.stages import UnitUpdate
from streams.core.unit.summary import DaySummary
from streams.models.rejections import Rejection, RejectReason

log = logging.getLogger(__name__)


class PersonEnvelope(msgspec.Struct, frozen=True):
    """A validated person event, person id replaced by the pseudonym, with its arrival time.

    `fact` and `organisation` are what the person stage reads of it (`core.stages.PersonInput`), made at
    the door, so that the stage neither validates nor converts the event again; `event` is the whole event,
    for what needs more of it: a dead letter's original (`too_late`, `conflicting_duplicate`) and the
    programme ledgers. A release before this one sent no `fact`: its messages are read by validating
    `event` (`PersonInput` is then made from it exactly as the door makes it). Fields a later release adds
    are read past, so that going back to this release does not dead-letter what the later one left on
    the topic (a release before this one refused them: docs/operations.md, State)."""

    pseudonym: str
    arrival: int  # epoch seconds: the input record's timestamp
    source_offset: str  # topic/partition/offset of the input record
    event: msgspec.Raw  # the event as JSON, person_id replaced by the pseudonym (a wire `Event`)
    ingested_at: float  # wall-clock time the worker read the input record
    fact: Fact | None = None
    organisation: str | None = None

    def event_json(self) -> bytes:
        """The event's JSON. A release before this one sent it as a JSON string: read that too."""
        raw = bytes(self.event)
        return msgspec.json.decode(raw, type=str).encode() if raw[:1] == b'"' else raw


class PersonEventBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Person events bound for one partition of person-events, in the order they were read. One message
    carries many events: per-message overhead, not the monitor's work, is what limits a worker.
    `staffing`: staffing reports on their way to their unit. They take the persons' path (one more hop
    than they need) so that in a backfill they never run ahead of the person events of the same weeks."""

    events: list[PersonEnvelope] = []
    staffing: list[UnitUpdate] = []


class UnitUpdateBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Unit updates bound for one partition of unit-updates, in the order they were made."""

    updates: list[UnitUpdate]


class DaySummaryBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Changed unit-days for the organisation stage, of the peer groups of one partition."""

    summaries: list[DaySummary]


M = TypeVar("M", PersonEventBatch, UnitUpdateBatch, DaySummaryBatch)

_encoder = msgspec.json.Encoder()
_decoders: dict[type, msgspec.json.Decoder] = {}  # type: ignore[type-arg]


def encode(message: PersonEnvelope | UnitUpdate | DaySummary) -> bytes:
    """One item of a batch message (the outbox puts the items of one message together)."""
    return _encoder.encode(message)


def read_internal(kind: type[M], record: InputRecord) -> M | Rejection:
    """A message of one of the worker's own topics, or a rejection when it cannot be read (another
    version's format, corruption): it then goes to the dead-letter topic and the agent goes on."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(record.value)  # type: ignore[no-any-return]
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        # msgspec names the place and the expected type, never the value
        log.warning("not a %s at %s", kind.__name__, record.where)
        return Rejection(reason=RejectReason.UNREADABLE_INTERNAL_MESSAGE, source_offset=record.where,
                         message=f"not a {kind.__name__}: {exc}")

"""Why an input was not accepted: a reason code for counters and a message for people."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema


class RejectReason(StrEnum):
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    TOO_LARGE = "too_large"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_FIELD = "invalid_field"
    FIELD_TOO_LONG = "field_too_long"
    INVALID_TIMESTAMP = "invalid_timestamp"
    IN_THE_FUTURE = "in_the_future"
    RAW_PERSONAL_IDENTITY_NUMBER = "raw_personal_identity_number"
    TOO_LATE = "too_late"
    #: a retraction whose `retracts` is itself a retraction: a retraction is never taken back
    RETRACTS_A_RETRACTION = "retracts_a_retraction"
    #: an event_id seen before with other content: neither version is used (within the allowed lateness)
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    #: occurred_at far after the stream's own time, and the stream did not move on with it (a stray date)
    AHEAD_OF_STREAM = "ahead_of_stream"
    #: the `om-arrival` header is present but is not epoch seconds (integer or decimal)
    INVALID_ARRIVAL_HEADER = "invalid_arrival_header"
    #: no `om-arrival` header, and the record timestamp is not a time from 1970 to 9999
    INVALID_RECORD_TIMESTAMP = "invalid_record_timestamp"
    #: a survey answer on a scale the configuration does not declare, or not one of its levels
    UNKNOWN_SCALE_LEVEL = "unknown_scale_level"
    #: an unexpected error while processing the record (a defect): isolated so the rest flows
    PROCESSING_FAILED = "processing_failed"
    #: a message on one of the worker's own topics it cannot read (e.g. left there by another version)
    UNREADABLE_INTERNAL_MESSAGE = "unreadable_internal_message"


#: What a dead letter's event_id is (the same in `Rejection` and the wire's `DeadLetter`).
EVENT_ID = ("The input's event_id, whenever it parsed as a JSON object with a string event_id (too_large: when one "
            "is complete within its first max_message_bytes bytes), a personnummer or samordningsnummer in it "
            "redacted as in the original and each character the contract keeps out of identifiers (control "
            "characters, line separators, bidirectional overrides, byte-order mark) shown as U+FFFD; null otherwise.")


class Rejection(BaseModel):
    """A dead letter: what was wrong, and where the input came from. Never holds a person id."""

    model_config = ConfigDict(frozen=True)

    reason: RejectReason
    message: str = Field(description="Human-readable; names fields, never echoes personal data.")
    event_id: str | None = Field(default=None, description=EVENT_ID)
    source_offset: str | None = Field(default=None, description="Topic/partition/offset or file:line.")
    #: The contract field the rejection is about, for the counter's `field` label (`rejected_field`); not part
    #: of what is written (the message names it).
    field: SkipJsonSchema[str | None] = Field(default=None, exclude=True)


#: The `field` label of a rejection that is about no field of the contract, or about one the contract does
#: not have (an unknown field's name is the sender's: unbounded).
NO_FIELD = "none"


def rejected_field(rejection: Rejection, known: frozenset[str]) -> str:
    """The counter's `field` label: the contract field the rejection names, one of `known`, or NO_FIELD."""
    return rejection.field if rejection.field in known else NO_FIELD

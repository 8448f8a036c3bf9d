"""Event contract v1: one JSON object per event, published by the source systems."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from streams.models.vocab import EventKind

# Printable text only: control characters (NUL included) in an identifier are a sender bug.
# No control characters (C0, DEL, C1), no line or paragraph separators (U+2028/9: they end a line for
# many readers), no bidirectional overrides or isolates (they make one id look like another), no BOM.
_PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]+$"

EventId = Annotated[str, Field(min_length=1, max_length=128, pattern=_PRINTABLE)]
UnitId = Annotated[str, Field(min_length=1, max_length=64, pattern=_PRINTABLE)]
PersonId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=_PRINTABLE,
        description="Pseudonymous key of the person from the source system. "
        "A raw personnummer/samordningsnummer is rejected.",
    ),
]
Source = Annotated[str, Field(min_length=1, max_length=64, pattern=_PRINTABLE)]


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    event_id: EventId = Field(description="Unique id; the same id seen again is a duplicate and ignored.")
    occurred_at: AwareDatetime = Field(description="Event time, ISO 8601 with a UTC offset.")
    unit_id: UnitId = Field(description="Workplace (HR events) or responsible care unit (care events).")
    source: Source | None = Field(default=None, description="The sending system.")


class _PersonEvent(_EventBase):
    person_id: PersonId


class SickLeave(_PersonEvent):
    """One calendar day of sick leave of an employee."""

    event_type: Literal[EventKind.SICK_LEAVE]
    # Float literals are outside PEP 586 but pydantic validates them exactly (and writes an enum).
    extent: Literal[0.25, 0.5, 0.75, 1.0] = Field(  # type: ignore[valid-type]
        default=1.0, description="Part of the working day."
    )


class Staffing(_EventBase):
    """The unit's headcount from `occurred_at` on."""

    event_type: Literal[EventKind.STAFFING]
    headcount: int = Field(ge=0, le=1_000_000)


class EmergencyVisit(_PersonEvent):
    """A visit to an emergency department."""

    event_type: Literal[EventKind.EMERGENCY_VISIT]


class Admission(_PersonEvent):
    """Start of an inpatient stay."""

    event_type: Literal[EventKind.ADMISSION]
    stay_id: EventId
    planned: bool = False


class Discharge(_PersonEvent):
    """End of an inpatient stay."""

    event_type: Literal[EventKind.DISCHARGE]
    stay_id: EventId


class HomeCareContact(_PersonEvent):
    """A home-care contact (hemtjänst / hemsjukvård)."""

    event_type: Literal[EventKind.HOME_CARE_CONTACT]
    minutes: int = Field(ge=0, le=24 * 60)
    planned: bool


class Enrollment(_PersonEvent):
    """The person joins a programme, or (`status: "left"`) leaves it. Joining the health-support
    programme is an employee's consent to their person-level flags reaching an HR partner; leaving it
    withdraws that consent (from the leaving day on; the latest event by occurred_at counts)."""

    event_type: Literal[EventKind.ENROLLMENT]
    program: Annotated[str, Field(min_length=1, max_length=64, pattern=_PRINTABLE)]
    status: Literal["joined", "left"] = "joined"


class Retraction(_PersonEvent):
    """The source takes back an event it sent (a record corrected or entered in error): the retracted
    event's effect on indicators and rules is removed and flags that rested on it are withdrawn. Must
    arrive within the allowed lateness of the retracted event; before it is fine too."""

    event_type: Literal[EventKind.RETRACTION]
    retracts: EventId = Field(description="event_id of the event taken back (of the same person).")
    retracted_occurred_at: AwareDatetime = Field(
        description="occurred_at of the event taken back: a retraction is accepted while that event is "
                    "within the allowed lateness, and rejected too_late after (its effect is settled).")


Event = Annotated[
    SickLeave | Staffing | EmergencyVisit | Admission | Discharge | HomeCareContact | Enrollment | Retraction,
    Field(discriminator="event_type"),
]
PersonEvent = SickLeave | EmergencyVisit | Admission | Discharge | HomeCareContact | Enrollment | Retraction

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

# Optional Kafka record header: the record's arrival time in event-time terms (epoch seconds, ASCII).
# `publish` sets it when replaying a file; without it the record timestamp is the arrival time.
ARRIVAL_HEADER = "om-arrival"

EVENT_TYPES: tuple[str, ...] = (
    "sick_leave",
    "staffing",
    "emergency_visit",
    "admission",
    "discharge",
    "home_care_contact",
    "enrollment",
)

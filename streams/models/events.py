"""Event contract v1: one JSON object per event, published by the source systems."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from stdnum import luhn

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
#: An id of a survey's instrument, question or scale, or a level of a scale.
Label = Annotated[str, Field(min_length=1, max_length=128, pattern=_PRINTABLE)]

#: The error type of an organisation number that is not one (`core/decode.py` tells a personnummer apart).
ORGANISATION_NUMBER_ERROR = "organisation_number"


# Cached (a raised error is not, and is raised again): an organisation comes again with most of its events,
# and the check is the costliest part of validating an event that names one (~2x the rest, stdnum's Luhn).
@functools.lru_cache(maxsize=4096)
def _organisation_number(value: str) -> str:
    """A Swedish organisationsnummer, written NNNNNN-NNNN. The third digit is 2 or more for a legal person
    (a personnummer's is a month's first digit, 0 or 1); the last is a Luhn check digit over all ten."""
    digits = value.replace("-", "")
    if int(digits[2]) < 2:
        raise PydanticCustomError(ORGANISATION_NUMBER_ERROR, "not an organisationsnummer of a legal person: its "
                                  "third digit must be 2 or more")
    if not luhn.is_valid(digits):
        raise PydanticCustomError(ORGANISATION_NUMBER_ERROR, "not an organisationsnummer: the check digit "
                                  "(Luhn) does not match")
    return f"{digits[:6]}-{digits[6:]}"


Organisation = Annotated[
    str,
    Field(pattern=r"^[0-9]{6}-?[0-9]{4}$",
          description="Swedish organisationsnummer of the organisation responsible (the employer, the care "
          "provider), NNNNNN-NNNN or ten digits; the third digit 2 or more, the last a Luhn check digit. Read "
          "as NNNNNN-NNNN. A sole trader's number (a personnummer) is rejected as one."),
    AfterValidator(_organisation_number),
]


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    event_id: EventId = Field(description="Unique id; the same id seen again is a duplicate and ignored.")
    occurred_at: AwareDatetime = Field(description="Event time, ISO 8601 with a UTC offset.")
    unit_id: UnitId = Field(description="Workplace (HR events) or responsible care unit (care events).")
    source: Source | None = Field(default=None, description="The sending system.")
    organisation: Organisation | None = Field(default=None, description="The organisation responsible.")


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
    reason: Literal["completed", "declined", "moved", "died"] | None = Field(
        default=None, description='Why the person left (with status "left" only). After "moved" or "died" a '
        "member's later months are unknown, not months without care: programme outcomes stop following them.")

    @field_validator("reason")
    @classmethod
    def _reason_only_when_leaving(cls, reason: str | None, info: ValidationInfo) -> str | None:
        if reason is not None and info.data.get("status", "left") != "left":
            raise ValueError('given only with status "left" (why the person left the programme)')
        return reason


class Retraction(_PersonEvent):
    """The source takes back an event it sent (a record corrected or entered in error): the retracted
    event's effect on indicators and rules is removed and flags that rested on it are withdrawn. Must
    arrive within the allowed lateness of the retracted event; before it is fine too."""

    event_type: Literal[EventKind.RETRACTION]
    retracts: EventId = Field(description="event_id of the event taken back (of the same person).")
    retracted_occurred_at: AwareDatetime = Field(
        description="occurred_at of the event taken back: a retraction is accepted while that event is "
                    "within the allowed lateness, and rejected too_late after (its effect is settled).")

    @field_validator("retracts")
    @classmethod
    def _not_itself(cls, retracts: str, info: ValidationInfo) -> str:
        if retracts == info.data.get("event_id"):
            raise ValueError("a retraction cannot retract itself: give the event_id of the event taken back")
        return retracts


class SurveyResponse(_EventBase):
    """One answer to one question of a survey, on a scale declared in the configuration
    (`MonitorConfig.survey_scales`). Anonymous without `person_id`. Reported with the programmes that name
    its instrument; it changes no person's or unit's figures."""

    event_type: Literal[EventKind.SURVEY_RESPONSE]
    person_id: PersonId | None = Field(default=None, description="The respondent; none: anonymous.")
    instrument: Label = Field(description="The survey (questionnaire).")
    question: Label = Field(description="The question, within the instrument.")
    scale: Label = Field(description="The answer's scale, one of `MonitorConfig.survey_scales`.")
    answer: Label = Field(description="A level of the scale.")


Event = Annotated[
    SickLeave | Staffing | EmergencyVisit | Admission | Discharge | HomeCareContact | Enrollment | Retraction
    | SurveyResponse,
    Field(discriminator="event_type"),
]
PersonEvent = SickLeave | EmergencyVisit | Admission | Discharge | HomeCareContact | Enrollment | Retraction

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
#: Every field of the contract (of any event type): the bounded values of a rejection's `field` label.
EVENT_FIELDS: frozenset[str] = frozenset(
    name for model in (SickLeave, Staffing, EmergencyVisit, Admission, Discharge, HomeCareContact, Enrollment,
                       Retraction, SurveyResponse) for name in model.model_fields)

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

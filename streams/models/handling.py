"""Flag handling contract v1: what recipients do with a flag (`outcome.flag-actions`), what the audit
log holds (`outcome.audit`), and what the inbox API takes in.

A flag's handling state is rebuilt from Kafka alone: the flags topic (what the monitor concluded) and
the flag-actions topic (what people did), both keyed by flag id.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

_PRINTABLE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]*$"
Note = Annotated[str, Field(max_length=2000, pattern=_PRINTABLE_TEXT,
                            description="Free text for colleagues. Never write a name or personnummer here.")]
UserName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]


class HandlingStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class ActionKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    SNOOZE = "snooze"


class Resolution(StrEnum):
    ACTION_TAKEN = "action_taken"
    NO_ACTION_NEEDED = "no_action_needed"
    FALSE_ALARM = "false_alarm"


class ActionRequest(BaseModel):
    """The body of POST /api/flags/{flag_id}/actions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ActionKind
    note: Note = ""
    resolution: Resolution | None = Field(default=None, description="Required with `resolve`.")
    until: dt.date | None = Field(default=None, description="Required with `snooze`: open again on this day.")

    @model_validator(mode="after")
    def _complete(self) -> ActionRequest:
        if self.action is ActionKind.RESOLVE and self.resolution is None:
            raise ValueError("resolve needs a resolution: action_taken, no_action_needed or false_alarm")
        if self.action is ActionKind.SNOOZE and self.until is None:
            raise ValueError("snooze needs `until`, the day the flag opens again")
        return self


class FlagAction(BaseModel):
    """One thing a recipient did with a flag: a record on `outcome.flag-actions`, keyed by flag id."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    action_id: str = Field(min_length=1, max_length=64, description="Unique: the same id again is ignored.")
    flag_id: str = Field(min_length=1, max_length=64)
    action: ActionKind
    by: UserName
    at: AwareDatetime = Field(description="Wall-clock time the action was taken.")
    note: Note = ""
    resolution: Resolution | None = None
    until: dt.date | None = None


class AuditKind(StrEnum):
    READ = "read"  # a person-level flag shown to a user (its evidence)
    LIST = "list"  # a list that included person-level flags
    ACTION = "action"
    REVEAL = "reveal"  # a source system's person key shown to a user
    DENIED = "denied"  # a request for a flag outside the user's scope, or a reveal refused


class AuditEntry(BaseModel):
    """One record on `outcome.audit`: who did or saw what, when, on which flag(s). Never a person key."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    kind: AuditKind
    user: str
    role: str
    at: AwareDatetime
    flag_ids: list[str] = Field(default_factory=list)
    reason: str = Field(default="", description="The reason given for a reveal; the action for an action.")


class ConsentRecord(BaseModel):
    """On `outcome.consent`, keyed by "<pseudonym>/<program>": a person joined or left a programme whose
    membership is consent (`monitor.consent`). Emitted by the persons stage for accepted enrolments."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    subject_id: str
    program: str
    joined: bool
    t: int = Field(description="Event time of the enrolment or leaving, epoch seconds.")
    event_id: str

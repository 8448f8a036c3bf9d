"""Flag contract v1: an at-risk person or unit, with the evidence an alert recipient needs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from streams.models.vocab import Rule, UnitOutcome


class FlagStatus(StrEnum):
    RAISED = "raised"
    WITHDRAWN = "withdrawn"


class WithdrawnBecause(StrEnum):
    """Why a flag was withdrawn or revised."""

    LATE_DATA = "late_data"  # events that arrived later (within the allowed lateness) change the picture
    RETRACTION = "retraction"  # the source retracted an event the flag rested on
    CONFLICTING_DUPLICATE = "conflicting_duplicate"  # an event it rested on came in two versions


class Interval(BaseModel):
    model_config = ConfigDict(frozen=True)

    low: float
    high: float
    level: float = Field(default=0.95, description="Coverage of the interval.")


class EvidenceEvent(BaseModel):
    """One event a person flag rests on: its id and its day (local, day resolution), so a recipient sees
    when things happened. An occasion's entry also has the occasion's last sick day so far."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    day: dt.date
    last_day: dt.date | None = Field(default=None, exclude_if=lambda v: v is None,
                                     description="A sick-leave occasion: its last sick day so far.")


EVENTS_DESCRIPTION = ("Every event behind the flag with its day, oldest first (empty in flags raised before "
                      "dates were part of the evidence).")


class SickLeaveEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["sick_leave"] = "sick_leave"
    window_start: dt.date
    window_end: dt.date
    occasions: int = Field(description="Sick-leave occasions starting in the window.")
    sick_days: float = Field(description="Sick days in the window, weighted by extent.")
    bradford_factor: int = Field(description="occasions^2 x calendar sick days in the window.")
    occasion_days: int = Field(description="Calendar sick days of the occasion that triggered the flag.")
    threshold: int
    event_ids: list[str] = Field(description="Events that started the occasions / reached the threshold.")
    dated_events: list[EvidenceEvent] = Field(default_factory=list, description=EVENTS_DESCRIPTION)


class EmergencyVisitEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["emergency_visits"] = "emergency_visits"
    window_start: dt.date
    window_end: dt.date
    visits: int
    threshold: int
    event_ids: list[str]
    dated_events: list[EvidenceEvent] = Field(default_factory=list, description=EVENTS_DESCRIPTION)


class EventsInWindowEvidence(BaseModel):
    """For any rule of the form "N or more events of a kind within a window" (what a new rule can use)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["events_in_window"] = "events_in_window"
    window_start: dt.date
    window_end: dt.date
    events: int
    threshold: int
    event_ids: list[str]
    dated_events: list[EvidenceEvent] = Field(default_factory=list, description=EVENTS_DESCRIPTION)


class ReadmissionEvidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["readmission"] = "readmission"
    discharge_event_id: str
    discharged_at: AwareDatetime
    discharging_unit_id: str
    admission_event_id: str
    days_after_discharge: float
    window_days: int


class WeekFigure(BaseModel):
    """One week of a unit flag's evidence: what the unit had, and what was expected of it."""

    model_config = ConfigDict(frozen=True)

    week_start: dt.date
    observed: float
    expected: float = Field(description="Drift: from the unit's usual level; level: at the peers' level.")
    ratio: float = Field(description="The unit's count relative to the peers' rate that week.")


class DriftEvidence(BaseModel):
    """A unit flag: a change against the unit's own usual level (`test: drift`) or a level persistently
    above its peers' (`test: level`), both relative to the rest of the organisation in the same weeks."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["unit_drift"] = "unit_drift"
    test: Literal["drift", "level"] = "drift"
    outcome: UnitOutcome = UnitOutcome.SICK_LEAVE
    detector: str
    signal: Literal["occasions", "sick_days", "ed_visits", "readmissions", "inpatient_days"] = Field(
        description="What is counted: new sick-leave occasions or sick days, ED visits, readmissions, "
                    "unplanned inpatient days.")
    window_start: dt.date
    window_end: dt.date
    baseline_ratio: float = Field(description="Drift: the unit's usual level relative to the rest (learned); "
                                  "level: 1.0, the peers' level.")
    current_ratio: float = Field(description="Level in the window relative to the rest: trend-adjusted.")
    current_interval: Interval
    observed: float = Field(description="The unit's count in the window.")
    expected: float = Field(description="Expected from the common trend and the unit's baseline (drift) or "
                            "at the peers' rate (level).")
    unit_rate: float | None = Field(default=None, description="The unit's rate in the window (`rate_unit`).")
    peer_rate: float | None = Field(default=None, description="The rest of the organisation's rate in the "
                                    "same weeks, weighted as the unit's exposure.")
    rate_unit: str | None = None
    unit_sick_leave_rate: float | None = Field(
        default=None, description="Sick leave only: sick days / (headcount x days) in the window's last week.")
    rest_sick_leave_rate: float | None = Field(default=None, description="The same for the rest.")
    headcount: int = Field(description="The group the figures are about: employees, or persons in the "
                           "unit's care. A unit with fewer than the minimum group size is not tested.")
    statistic: float = Field(description="Drift: the detector's statistic; level: the interval's low end.")
    threshold: float = Field(description="Drift: the detector's threshold; level: the ratio the interval "
                             "must lie above.")
    weeks: list[WeekFigure] = Field(default_factory=list, description="The weeks that made the difference.")


Evidence = Annotated[
    SickLeaveEvidence | EmergencyVisitEvidence | ReadmissionEvidence | DriftEvidence | EventsInWindowEvidence,
    Field(discriminator="kind"),
]


class Flag(BaseModel):
    """One flag. The flags topic is keyed by `flag_id`; the last record for an id is its state."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    flag_id: str = Field(description="Deterministic: the same input gives the same id.")
    rule: Rule
    status: FlagStatus = Field(
        default=FlagStatus.RAISED,
        description="`withdrawn` when late-arriving events show the condition did not hold after all.",
    )
    withdrawn_because: WithdrawnBecause | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="Why a withdrawn flag no longer holds (left out while the flag is raised).")
    revised_because: WithdrawnBecause | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="A later version of the same episode (same flag_id): why it changed. A recipient's "
                    "acknowledgement of the flag stays with it.")
    changed: list[str] | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="The fields that differ from the previous version (with `revised_because`).")
    subject_kind: Literal["person", "unit"]
    subject_id: str = Field(description="Unit id, or the person's keyed pseudonym (HMAC), never a raw id.")
    unit_id: str
    raised_at: AwareDatetime = Field(description="Event time at which the condition became true.")
    evidence: Evidence

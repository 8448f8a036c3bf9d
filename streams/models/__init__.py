"""Wire types: the single source of truth for what crosses a topic or a file. No I/O here."""

from __future__ import annotations

from streams.models.events import (
    EVENT_ADAPTER,
    Admission,
    Discharge,
    EmergencyVisit,
    Enrollment,
    Event,
    HomeCareContact,
    SickLeave,
    Staffing,
)
from streams.models.flags import (
    DriftEvidence,
    EmergencyVisitEvidence,
    Flag,
    FlagStatus,
    ReadmissionEvidence,
    Rule,
    SickLeaveEvidence,
)
from streams.models.rejections import Rejection, RejectReason

__all__ = [
    "EVENT_ADAPTER",
    "Admission",
    "Discharge",
    "DriftEvidence",
    "EmergencyVisit",
    "EmergencyVisitEvidence",
    "Enrollment",
    "Event",
    "Flag",
    "FlagStatus",
    "HomeCareContact",
    "ReadmissionEvidence",
    "Rejection",
    "RejectReason",
    "Rule",
    "SickLeave",
    "SickLeaveEvidence",
    "Staffing",
]

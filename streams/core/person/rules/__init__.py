"""The person rules, one per module. A new rule is a module here plus one line in `RULES` (and its name
in `streams.models.vocab.Rule`, which is the wire contract of flags). Rules run in this order."""

from __future__ import annotations

from streams.core.person.rules.base import PersonRule
from streams.core.person.rules.frequent_emergency_visits import FrequentEmergencyVisits
from streams.core.person.rules.long_sick_leave import LongSickLeave
from streams.core.person.rules.readmission import Readmission
from streams.core.person.rules.repeated_sick_leave import RepeatedSickLeave

RULES: tuple[type[PersonRule], ...] = (
    RepeatedSickLeave,
    LongSickLeave,
    FrequentEmergencyVisits,
    Readmission,
)

__all__ = ["RULES", "PersonRule"]

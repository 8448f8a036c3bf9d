"""The monitor's vocabulary, declared once: event kinds, unit metrics and rules.

Everything else reads these: the wire models (the `event_type` discriminators), the decode, the person
fold and its unit contributions, the unit indicators, the simulator, and the flags. Adding an event kind,
a unit metric or a rule starts here (docs/contributing.md, "How it fits together").
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """`event_type` on the wire."""

    SICK_LEAVE = "sick_leave"
    STAFFING = "staffing"
    EMERGENCY_VISIT = "emergency_visit"
    ADMISSION = "admission"
    DISCHARGE = "discharge"
    HOME_CARE_CONTACT = "home_care_contact"
    ENROLLMENT = "enrollment"
    RETRACTION = "retraction"  # the source takes back an event it sent (`retracts`: its event_id)
    SURVEY_RESPONSE = "survey_response"  # one answer on a declared ordinal scale; anonymous or a person's


UNIT_EVENT_KINDS = frozenset({EventKind.STAFFING})  # about a unit, not a person
# Neither a person's nor a unit's figures: only programme outcomes read these (core/programme/).
PROGRAMME_EVENT_KINDS = frozenset({EventKind.SURVEY_RESPONSE})
PERSON_EVENT_KINDS = frozenset(EventKind) - UNIT_EVENT_KINDS - PROGRAMME_EVENT_KINDS
HR_EVENT_KINDS = frozenset({EventKind.SICK_LEAVE, EventKind.STAFFING})  # employees of a workplace
CARE_EVENT_KINDS = PERSON_EVENT_KINDS - HR_EVENT_KINDS - {EventKind.RETRACTION}  # persons in a unit's care


class UnitMetric(StrEnum):
    """A daily sum per unit that person events contribute to (what unit indicators are read from)."""

    SICK_DAYS = "sick_days"  # calendar sick days weighted by extent
    OCCASIONS = "occasions"  # new sick-leave occasions (spells)
    SICK_COST_SEK = "sick_cost_sek"
    ED_VISITS = "ed_visits"
    ADMISSIONS = "admissions"
    UNPLANNED_ADMISSIONS = "unplanned_admissions"
    DISCHARGES = "discharges"
    READMISSIONS = "readmissions"  # index discharges followed by an unplanned admission in the window
    HOME_CARE_CONTACTS = "home_care_contacts"
    HOME_CARE_MINUTES = "home_care_minutes"
    HOME_CARE_UNPLANNED = "home_care_unplanned"
    ENROLLMENTS = "enrollments"
    INPATIENT_DAYS = "inpatient_days"  # days of stays ended (discharged) on the day, planned ones too
    UNPLANNED_INPATIENT_DAYS = "unplanned_inpatient_days"  # the same, of unplanned stays only
    # Unplanned stays going on, admitted (+1) or ended (-1) on the day, in the admitting unit: the running
    # sum is the unit's occupied beds of unplanned stays, and each day of a stay counts on that day (a
    # stay with no discharge is taken to end MAX_STAY_DAYS after its admission).
    UNPLANNED_BEDS_CHANGE = "unplanned_beds_change"
    # Persons entering (+1) or leaving (-1) the unit's care population on the day: a person is in a unit's
    # care for CARE_POPULATION_DAYS after each care event there. The running sum is the population.
    CARE_POPULATION_CHANGE = "care_population_change"


CARE_POPULATION_DAYS = 365


class UnitOutcome(StrEnum):
    """An outcome monitored per unit against its peers (drift and level flags), with its denominator."""

    SICK_LEAVE = "sick_leave"  # occasions (or sick days) per employee-day
    ED_VISITS = "ed_visits"  # ED visits per person-day in the unit's care
    READMISSIONS = "readmissions"  # 30-day readmissions per discharge
    INPATIENT_DAYS = "inpatient_days"  # unplanned bed-days (each on the day it is occupied) per person-day in care


class Rule(StrEnum):
    """`rule` of a flag. Person rules live one per module in `streams/core/person/rules/`."""

    REPEATED_SICK_LEAVE = "repeated_sick_leave"
    LONG_SICK_LEAVE = "long_sick_leave"
    FREQUENT_EMERGENCY_VISITS = "frequent_emergency_visits"
    READMISSION_30D = "readmission_30d"
    UNIT_SICK_LEAVE_DRIFT = "unit_sick_leave_drift"
    UNIT_SICK_LEAVE_LEVEL = "unit_sick_leave_level"
    UNIT_ED_VISITS_DRIFT = "unit_ed_visits_drift"
    UNIT_ED_VISITS_LEVEL = "unit_ed_visits_level"
    UNIT_READMISSIONS_DRIFT = "unit_readmissions_drift"
    UNIT_READMISSIONS_LEVEL = "unit_readmissions_level"
    UNIT_INPATIENT_DAYS_DRIFT = "unit_inpatient_days_drift"
    UNIT_INPATIENT_DAYS_LEVEL = "unit_inpatient_days_level"


#: Per monitored unit outcome: its drift rule (a change against the unit's own usual level) and its level
#: rule (the unit persistently above its peers).
UNIT_RULES: dict[UnitOutcome, tuple[Rule, Rule]] = {
    UnitOutcome.SICK_LEAVE: (Rule.UNIT_SICK_LEAVE_DRIFT, Rule.UNIT_SICK_LEAVE_LEVEL),
    UnitOutcome.ED_VISITS: (Rule.UNIT_ED_VISITS_DRIFT, Rule.UNIT_ED_VISITS_LEVEL),
    UnitOutcome.READMISSIONS: (Rule.UNIT_READMISSIONS_DRIFT, Rule.UNIT_READMISSIONS_LEVEL),
    UnitOutcome.INPATIENT_DAYS: (Rule.UNIT_INPATIENT_DAYS_DRIFT, Rule.UNIT_INPATIENT_DAYS_LEVEL),
}
UNIT_FLAG_RULES = frozenset(r for pair in UNIT_RULES.values() for r in pair)


#: Rules about employees (their group is the unit's headcount); the others are about persons in care
#: (their group is the unit's care population). What a count of flags is suppressed against.
EMPLOYEE_RULES = frozenset({Rule.REPEATED_SICK_LEAVE, Rule.LONG_SICK_LEAVE, *UNIT_RULES[UnitOutcome.SICK_LEAVE]})

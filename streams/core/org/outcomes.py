"""The unit outcomes monitored against peers, each declared once: what is counted, per what, for whom.

A week of a unit is read as (observed count, exposure, group): sick-leave occasions per employee-day for
a workplace; ED visits and unplanned bed-days (each day a stay goes on, from its admission) per
person-day in a care unit's care; 30-day
readmissions per discharge. The expected count at the peers' rate is exposure x the rest of the
organisation's count / its exposure in the same week, so a trend common to all units (a flu season, a
winter pressure) is not a unit's signal. A new outcome is a `UnitOutcome`, its two rules
(`UNIT_RULES`), a field of the unit-day summary if it needs one, and one entry here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from streams.core.config import MonitorConfig
from streams.core.unit.tracker import POPULATION_WINDOW_DAYS
from streams.models.vocab import UNIT_RULES, Rule, UnitOutcome

YEAR = 365.0


@dataclass(frozen=True, slots=True)
class WeekTotals:
    """One unit's week: sums over its days reported, and its groups."""

    sick_days: float
    occasions: float
    headcount_days: float  # employee-days
    headcount: int  # at the week's last day reported
    ed_visits: float
    readmissions: float
    discharges: float
    inpatient_days: float  # bed-days of unplanned stays: each day a stay goes on counts in its week
    care_days: float  # person-days in the unit's care
    care_population: int  # persons in the unit's care at the week's end


@dataclass(frozen=True, slots=True)
class OutcomeSpec:
    outcome: UnitOutcome
    numerator: str  # a WeekTotals field: what is counted
    exposure: str  # a WeekTotals field: per what
    group: str  # a WeekTotals field: the people the figure is about (suppression, min group)
    rate_scale: float  # a rate in the evidence is count / exposure x this
    rate_unit: str
    follow_up_days: int = 0  # a week is complete only this long after it ended (readmissions)
    # Days of history a week's figures need before it (persons in care: a person counts for a year after
    # a care event; a stay's readmission; an occasion's re-illness gap): weeks before are incomplete.
    look_back_days: int = 0

    @property
    def drift_rule(self) -> Rule:
        return UNIT_RULES[self.outcome][0]

    @property
    def level_rule(self) -> Rule:
        return UNIT_RULES[self.outcome][1]

    def covered_from(self, history_start: int) -> int:
        """The first day of the first week whose figures are complete, for a history from this day."""
        return history_start + self.look_back_days

    def lag_weeks(self) -> int:
        """Weeks after a week's end before it is evaluated: its follow-up must be complete."""
        return math.ceil(self.follow_up_days / 7)


def outcome_specs(config: MonitorConfig) -> list[OutcomeSpec]:
    """The monitored outcomes, in the configured order."""
    signal = config.drift.signal
    gap = config.rules.occasion_gap_days
    sick_leave = (
        OutcomeSpec(UnitOutcome.SICK_LEAVE, "occasions", "headcount_days", "headcount", YEAR,
                    "sick-leave occasions per employee and year", look_back_days=gap)
        if signal == "occasions" else
        OutcomeSpec(UnitOutcome.SICK_LEAVE, "sick_days", "headcount_days", "headcount", 100.0,
                    "sick days per 100 employee-days", look_back_days=gap))
    every = {
        UnitOutcome.SICK_LEAVE: sick_leave,
        UnitOutcome.ED_VISITS: OutcomeSpec(
            UnitOutcome.ED_VISITS, "ed_visits", "care_days", "care_population", 1000 * YEAR,
            "ED visits per 1,000 persons in care and year", look_back_days=POPULATION_WINDOW_DAYS),
        UnitOutcome.READMISSIONS: OutcomeSpec(
            UnitOutcome.READMISSIONS, "readmissions", "discharges", "care_population", 100.0,
            f"unplanned readmissions within {config.rules.readmission_window_days} days per 100 discharges",
            follow_up_days=config.rules.readmission_window_days,
            look_back_days=config.rules.readmission_window_days),
        UnitOutcome.INPATIENT_DAYS: OutcomeSpec(
            UnitOutcome.INPATIENT_DAYS, "inpatient_days", "care_days", "care_population", 1000 * YEAR,
            "unplanned inpatient days per 1,000 persons in care and year",
            look_back_days=POPULATION_WINDOW_DAYS),
    }
    return [every[o] for o in config.drift.outcomes]


def outcome_of_rule(rule: Rule) -> UnitOutcome | None:
    return next((o for o, pair in UNIT_RULES.items() if rule in pair), None)

"""The cold start: where each unit's history begins, and from which week each of its outcomes is complete.

A deployment starts from a history, never from the beginning of time: persons in care are seen for the
first time at their first care event in it (a person counts for 365 days after one), stays and absences
going on when it begins are seen for the first time when they end or on its first day. Until an outcome's
look-back is covered, its weeks are incomplete: they are not a unit's rise, the drift detector neither
learns its baseline from them nor tests them, they are no one's peers, and the boards show the unit's
outcome as building up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from streams.core.config import MonitorConfig
from streams.core.org.outcomes import OutcomeSpec, outcome_specs
from streams.core.org.state import OrgState
from streams.core.timebase import week_days, week_of
from streams.models.vocab import UnitOutcome


class Monitoring(StrEnum):
    BUILDING_UP = "building_up"  # the look-back is not covered yet: its weeks are incomplete
    WARMING_UP = "warming_up"  # complete weeks are learning the unit's usual level
    MONITORED = "monitored"  # drift and level flags can be raised


def history_start(state: OrgState, unit_id: str, configured: dt.date | None) -> int:
    """The configured beginning of the sources' history, or else the first day the unit reported."""
    if configured is not None:
        return configured.toordinal()
    return state.first_days.get(unit_id, 0)


def complete_from(state: OrgState, spec: OutcomeSpec, unit_id: str, configured: dt.date | None) -> int:
    """The first day from which the unit's weeks are complete for the outcome: its look-back covered (and
    for inpatient days, the beds of unplanned stays known: not in a state written before they were)."""
    start = spec.covered_from(history_start(state, unit_id, configured))
    return max(start, state.beds_from) if spec.outcome == UnitOutcome.INPATIENT_DAYS else start


def is_covered(state: OrgState, spec: OutcomeSpec, unit_id: str, week: int, configured: dt.date | None) -> bool:
    """Whether the unit's week is complete for the outcome: it begins once the look-back is covered."""
    return week_days(week)[0] >= complete_from(state, spec, unit_id, configured)


@dataclass(frozen=True, slots=True)
class UnitMonitoring:
    unit_id: str
    outcome: UnitOutcome
    state: Monitoring
    complete_from: dt.date  # the first day of the first complete week


def unit_monitoring(org: OrgState, config: MonitorConfig) -> list[UnitMonitoring]:
    """Every unit and outcome of its peer group (workplaces, care units): building up, warming up or
    monitored, as of the organisation's latest evaluation."""
    out = []
    for group, outcomes in ((org, {UnitOutcome.SICK_LEAVE}), (org.care, set(UnitOutcome) - {UnitOutcome.SICK_LEAVE})):
        if group is None:
            continue
        for spec in outcome_specs(config):
            if spec.outcome not in outcomes:
                continue
            units = group.monitors.get(spec.outcome.value, {})
            for unit_id in sorted(group.first_days):
                start = complete_from(group, spec, unit_id, config.drift.history_start)
                first_week = week_of(start) + (0 if week_days(week_of(start))[0] == start else 1)
                unit = units.get(unit_id)
                if unit is not None and unit.ready:
                    state = Monitoring.MONITORED
                elif group.evaluated_week - spec.lag_weeks() >= first_week:
                    state = Monitoring.WARMING_UP
                else:
                    state = Monitoring.BUILDING_UP
                out.append(UnitMonitoring(unit_id, spec.outcome, state,
                                          dt.date.fromordinal(week_days(first_week)[0])))
    return out

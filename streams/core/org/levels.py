"""Each workplace's latest sick-leave level relative to the rest of the organisation, for the boards."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.org.state import OrgState
from streams.core.timebase import week_days
from streams.models.vocab import UnitOutcome


@dataclass(frozen=True, slots=True)
class RelativeLevel:
    """A unit's latest weekly level relative to the rest of the organisation (the common trend)."""

    unit_id: str
    week_start: int
    ratio: float
    low: float
    high: float
    baseline: float | None  # None during the warm-up
    headcount: int


def relative_levels(state: OrgState, min_group_size: int) -> list[RelativeLevel]:
    """Latest trend-adjusted ratios; none for a unit smaller than `min_group_size` (privacy)."""
    out = []
    units = state.monitors.get(UnitOutcome.SICK_LEAVE.value, {})
    for unit_id in sorted(units):
        unit = units[unit_id]
        if unit.last_ratio is None:
            continue
        week, ratio, low, high, headcount = unit.last_ratio
        if headcount < min_group_size:
            continue
        baseline = round(unit.theta, 4) if unit.ready else None
        out.append(RelativeLevel(unit_id, week_days(week)[0], round(ratio, 4), round(low, 4), round(high, 4),
                                 baseline, headcount))
    return out

"""A unit persistently above its peers: the level flag.

A unit that has been high all along has no change for a drift detector to find, yet it is where an
outcome contract's manager support belongs. Each week, the unit's count over the last `level_weeks`
(a quarter) is compared with what its exposure would give at the rest of the organisation's rate in the
same weeks (so a season or trend common to all is not the unit's). A flag is raised once the ratio's
interval lies wholly above `level_min_ratio`, and kept (no new flag) until the ratio itself falls back to
it; a unit high again later gets a new flag.

The interval is widened by the larger of two dispersions. The unit's own (learned as for drift, on 4-week
blocks) misses what lasts a quarter: a bad spell of sick leave, a frail person's stays. So the units'
quarters are also compared with each other, as in a funnel plot (Spiegelhalter 2005): each unit's
z-score against the peers' rate, winsorised at the 10th and 90th percentiles so that a unit truly apart
does not widen its own interval, and the mean of their squares is the overdispersion of a quarter.
"""

from __future__ import annotations

import math

from streams.core.config import MonitorConfig
from streams.core.org.evidence import Finding, UnitWeek, unit_flag
from streams.core.org.state import UnitDrift
from streams.core.org.unit_step import quasi_poisson_interval
from streams.models.flags import Flag


class UnitLevelStep:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.weeks = config.drift.level_weeks
        self.min_ratios = config.drift.outcome_level_min_ratios
        self.default_min_ratio = config.drift.level_min_ratio
        # Weeks a unit is not tested (too few people, no discharges) leave gaps: a quarter with most of
        # its weeks is a quarter.
        self.min_weeks = math.ceil(0.75 * self.weeks)

    def observe(self, unit: UnitDrift, uw: UnitWeek) -> tuple[float, float] | None:
        """Take the unit's week into its quarter; the quarter's (observed, expected at the peers' rate)
        once it can be tested. Not before the unit's dispersion is known (its warm-up): absence and
        inpatient days cluster in persons."""
        unit.recent = [w for w in unit.recent if w[0] > uw.week - self.weeks] + [uw.as_week()]
        if len(unit.recent) < self.min_weeks or not unit.ready:
            return None
        e0 = sum(w[2] for w in unit.recent)
        return (sum(w[1] for w in unit.recent), e0) if e0 > 0 else None

    def __call__(self, unit: UnitDrift, uw: UnitWeek, quarter: tuple[float, float] | None,
                 peers_dispersion: float) -> Flag | None:
        """The decision for a unit whose quarter `observe` gave, the units' funnel dispersion known."""
        if quarter is None:
            return None
        observed, e0 = quarter
        ratio = observed / e0
        min_ratio = self.min_ratios.get(uw.spec.outcome, self.default_min_ratio)
        if unit.level_active:
            if ratio <= min_ratio:
                unit.level_active = False
            return None
        low, high = quasi_poisson_interval(observed, max(unit.phi, peers_dispersion, 1.0))
        if low / e0 <= min_ratio:
            return None
        unit.level_active = True
        found = Finding(uw.spec.level_rule, "level", list(unit.recent), 1.0, (low / e0, high / e0),
                        low / e0, min_ratio, "level")
        return unit_flag(self.config, uw, found)


def funnel_dispersion(quarters: list[tuple[float, float]]) -> float:
    """Overdispersion of the units' quarters against the peers' rate (Spiegelhalter 2005): the mean
    squared z-score, z winsorised at the 10th and 90th percentiles; 1.0 with fewer than 5 units."""
    if len(quarters) < 5:
        return 1.0
    z = sorted((o - e) / math.sqrt(e) for o, e in quarters)
    cut = int(0.1 * len(z))
    low, high = z[cut], z[-1 - cut]
    return max(1.0, sum(min(max(x, low), high) ** 2 for x in z) / len(z))

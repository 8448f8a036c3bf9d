"""A unit persistently above its peers: the level flag.

A unit that has been high all along has no change for a drift detector to find, yet it is where an
outcome contract's manager support belongs. Each week, the unit's count over the last `level_weeks`
(a quarter) is compared with what its exposure would give at the rest of the organisation's rate in the
same weeks (so a season or trend common to all is not the unit's). The ratio's interval is widened by the
unit's dispersion (learned as for drift, pooled with its peers': absence and care use cluster in persons). A flag
is raised once the interval lies wholly above `level_min_ratio`, and kept (no new flag) until the ratio
itself falls back to it; a unit high again later gets a new flag.
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
        self.min_ratio = config.drift.level_min_ratio
        # Weeks a unit is not tested (too few people, no discharges) leave gaps: a quarter with most of
        # its weeks is a quarter.
        self.min_weeks = math.ceil(0.75 * self.weeks)

    def __call__(self, unit: UnitDrift, uw: UnitWeek) -> Flag | None:
        unit.recent = [w for w in unit.recent if w[0] > uw.week - self.weeks] + [uw.as_week()]
        # Not before the unit's dispersion is known (its warm-up): absence and inpatient days cluster in
        # persons, and a Poisson interval would make a frail few look like a unit problem.
        if len(unit.recent) < self.min_weeks or not unit.ready:
            return None
        observed = sum(w[1] for w in unit.recent)
        e0 = sum(w[2] for w in unit.recent)
        if e0 <= 0:
            return None
        ratio = observed / e0
        if unit.level_active:
            if ratio <= self.min_ratio:
                unit.level_active = False
            return None
        low, high = quasi_poisson_interval(observed, max(unit.phi, 1.0))
        if low / e0 <= self.min_ratio:
            return None
        unit.level_active = True
        found = Finding(uw.spec.level_rule, "level", list(unit.recent), 1.0, (low / e0, high / e0),
                        low / e0, self.min_ratio, "level")
        return unit_flag(self.config, uw, found)

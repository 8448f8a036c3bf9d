"""What every part of the evaluation shares: organisations of 12 units over two years, a change in unit 0
on day 400, a detection counted within half a year of it, and the warm-up before any level flag."""

from __future__ import annotations

ONSET_DAY = 400
DAYS = 730
HORIZON_DAYS = 182
UNITS = 12
WARMUP_WEEKS = 12  # DriftConfig.warmup_weeks: no level flag before the unit's dispersion is known

"""One unit, one complete week: the warm-up that learns its usual level, then the detector, and the
drift flag with its evidence when the detector alarms."""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.flag_ids import flag_id
from streams.core.intervals import poisson_count
from streams.core.org.state import UnitDrift
from streams.core.timebase import day_start, day_to_date, week_days
from streams.models.flags import DriftEvidence, Flag, Interval
from streams.models.vocab import Rule

BASELINE_LEARNING_RATE = 1 / 52  # in control, theta follows slow change with a one-year memory


class UnitDriftStep:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.drift = config.drift

    def __call__(self, unit: UnitDrift, unit_id: str, week: int, observed: float, e0: float,
                   rates: tuple[float, float], headcount: int) -> Flag | None:
        low, high = poisson_count(observed)
        unit.last_ratio = (week, observed / e0, low / e0, high / e0, headcount)
        if not unit.ready:
            unit.warmup.append((observed, e0))
            if len(unit.warmup) >= self.drift.warmup_weeks:
                self._finish_warmup(unit)
            return None
        expected = unit.theta * e0
        step = unit.detector.update(observed, expected, unit.phi)
        flag = None
        if step.alarm and not unit.active:
            unit.active = True
            last = week_days(week)[-1]
            evidence = DriftEvidence(
                detector=unit.detector.kind,
                signal=self.drift.signal,
                window_start=day_to_date(week_days(week)[0]),
                window_end=day_to_date(last),
                baseline_ratio=round(unit.theta, 4),
                current_ratio=round(observed / e0, 4),
                current_interval=Interval(low=round(low / e0, 4), high=round(high / e0, 4)),
                observed=round(observed, 3),
                expected=round(expected, 3),
                unit_sick_leave_rate=rates[0],
                rest_sick_leave_rate=rates[1],
                headcount=headcount,
                statistic=round(step.statistic, 4),
                threshold=unit.detector.threshold,
            )
            flag = Flag(
                flag_id=flag_id(Rule.UNIT_SICK_LEAVE_DRIFT.value, unit_id, f"week:{week}"),
                rule=Rule.UNIT_SICK_LEAVE_DRIFT,
                subject_kind="unit",
                subject_id=unit_id,
                unit_id=unit_id,
                raised_at=day_start(last + 1, self.config.timezone),
                evidence=evidence,
            )
        elif step.in_control:
            unit.active = False
            unit.theta += BASELINE_LEARNING_RATE * (observed / e0 - unit.theta)
        return flag

    def _finish_warmup(self, unit: UnitDrift) -> None:
        total_o = sum(o for o, _ in unit.warmup)
        total_e = sum(e for _, e in unit.warmup)
        # Shrunk towards the organisation's level (ratio 1): a small unit's few weeks of warm-up say
        # little, and an underestimated baseline would be a false alarm waiting to happen.
        prior = self.drift.baseline_prior_weight
        unit.theta = (total_o + prior) / (total_e + prior)
        # Pearson dispersion over the warm-up weeks; sick days cluster in people, so phi > 1 is usual.
        pearson = [(o - unit.theta * e) ** 2 / max(unit.theta * e, 1e-9) for o, e in unit.warmup]
        unit.phi = max(1.0, sum(pearson) / max(len(pearson) - 1, 1))
        unit.ready = True
        unit.warmup = []

"""One unit, one complete week: the warm-up that learns its usual level, then the detector, and the
drift flag with its evidence when the detector alarms.

Calibrated detection (issue 14, the default with nb_cusum): the unit's dispersion is measured on blocks
of weeks (a person's bad spell lasts months), shrunk towards its peers' pooled figure and never below 1;
the evidence is the run of weeks over which the detector accumulated, and a flag waits until that run's
interval for the ratio, widened by the same dispersion, excludes the baseline.
"""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.flag_ids import flag_id
from streams.core.intervals import poisson_count
from streams.core.org.detectors import CALIBRATED
from streams.core.org.state import UnitDrift
from streams.core.timebase import day_start, day_to_date, week_days
from streams.models.flags import DriftEvidence, Flag, Interval
from streams.models.vocab import Rule

BASELINE_LEARNING_RATE = 1 / 52  # in control, theta follows slow change with a one-year memory
DISPERSION_FORGET = 1 / 26  # per block: the dispersion remembers about two years of blocks


def pooled_dispersion(units: list[UnitDrift]) -> float:
    """The peers' dispersion: all their blocks' Pearson statistics together (1 before there are any)."""
    n = sum(u.disp_n for u in units)
    return max(1.0, sum(u.disp_sum for u in units) / n) if n > 0 else 1.0


def quasi_poisson_interval(count: float, dispersion: float) -> tuple[float, float]:
    """95% interval of a count that varies `dispersion` times more than Poisson (as count / dispersion
    Poisson events, each worth `dispersion`)."""
    low, high = poisson_count(count / dispersion)
    return low * dispersion, high * dispersion


class UnitDriftStep:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.drift = config.drift
        calibrated = self.drift.calibrated
        self.calibrated = self.drift.detector in CALIBRATED if calibrated is None else calibrated

    def __call__(self, unit: UnitDrift, unit_id: str, week: int, observed: float, e0: float,
                 rates: tuple[float, float], headcount: int, peers_dispersion: float = 1.0) -> Flag | None:
        low, high = poisson_count(observed)
        unit.last_ratio = (week, observed / e0, low / e0, high / e0, headcount)
        if not unit.ready:
            unit.warmup.append((observed, e0))
            if len(unit.warmup) >= self.drift.warmup_weeks:
                self._finish_warmup(unit)
            return None
        if self.calibrated:
            return self._calibrated(unit, unit_id, week, observed, e0, rates, headcount, peers_dispersion)
        expected = unit.theta * e0
        step = unit.detector.update(observed, expected, unit.phi)
        flag = None
        if step.alarm and not unit.active:
            unit.active = True
            window = (week, week)
            interval = (low / e0, high / e0)
            flag = self._flag(unit, unit_id, window, observed, e0, interval, rates, headcount, step.statistic)
        elif step.in_control:
            unit.active = False
            unit.theta += BASELINE_LEARNING_RATE * (observed / e0 - unit.theta)
        return flag

    def _calibrated(self, unit: UnitDrift, unit_id: str, week: int, observed: float, e0: float,
                    rates: tuple[float, float], headcount: int, peers: float) -> Flag | None:
        prior = self.drift.dispersion_prior_blocks
        unit.phi = max(1.0, (unit.disp_sum + prior * peers) / (unit.disp_n + prior)) if unit.disp_n + prior else 1.0
        step = unit.detector.update(observed, unit.theta * e0, unit.phi)
        # The run: the weeks since the statistic was last zero, the evidence a flag rests on.
        unit.run = [] if step.statistic <= 0 else [*unit.run, (week, observed, e0)][-self.drift.max_window_weeks:]
        flag = None
        if step.alarm and not unit.active and unit.run:
            total_o = sum(o for _, o, _ in unit.run)
            total_e0 = sum(e for _, _, e in unit.run)
            lo, hi = quasi_poisson_interval(total_o, unit.phi)
            # A flag is never raised while its own interval includes the baseline: the detector's alarm
            # waits (it stays above h) until the weeks it rests on say so too.
            if lo / total_e0 > unit.theta:
                unit.active = True
                flag = self._flag(unit, unit_id, (unit.run[0][0], week), total_o, total_e0,
                                  (lo / total_e0, hi / total_e0), rates, headcount, step.statistic)
        if step.in_control:
            unit.active = False
        if not step.alarm and not unit.active:
            # Every week the detector does not alarm on is learned from, the baseline following it slowly
            # (learning only from weeks at zero, as the Poisson CUSUM does, biases the baseline low).
            self._learn(unit, observed, e0)
        return flag

    def _learn(self, unit: UnitDrift, observed: float, e0: float) -> None:
        """An in-control week: the baseline follows it slowly, and it goes into the dispersion."""
        unit.theta += BASELINE_LEARNING_RATE * (observed / e0 - unit.theta)
        self._add_to_block(unit, observed, unit.theta * e0)

    def _add_to_block(self, unit: UnitDrift, observed: float, expected: float) -> None:
        o, e, n = unit.block
        o, e, n = o + observed, e + expected, n + 1
        if n < self.drift.dispersion_block_weeks:
            unit.block = (o, e, n)
            return
        unit.block = (0.0, 0.0, 0)
        if e > 0:
            unit.disp_sum = unit.disp_sum * (1 - DISPERSION_FORGET) + (o - e) ** 2 / e
            unit.disp_n = unit.disp_n * (1 - DISPERSION_FORGET) + 1

    def _flag(self, unit: UnitDrift, unit_id: str, weeks: tuple[int, int], observed: float, e0: float,
              interval: tuple[float, float], rates: tuple[float, float], headcount: int,
              statistic: float) -> Flag:
        first, week = weeks
        last = week_days(week)[-1]
        evidence = DriftEvidence(
            detector=unit.detector.kind,
            signal=self.drift.signal,
            window_start=day_to_date(week_days(first)[0]),
            window_end=day_to_date(last),
            baseline_ratio=round(unit.theta, 4),
            current_ratio=round(observed / e0, 4),
            current_interval=Interval(low=round(interval[0], 4), high=round(interval[1], 4)),
            observed=round(observed, 3),
            expected=round(unit.theta * e0, 3),
            unit_sick_leave_rate=rates[0],
            rest_sick_leave_rate=rates[1],
            headcount=headcount,
            statistic=round(statistic, 4),
            threshold=unit.detector.threshold,
        )
        return Flag(
            flag_id=flag_id(Rule.UNIT_SICK_LEAVE_DRIFT.value, unit_id, f"week:{week}"),
            rule=Rule.UNIT_SICK_LEAVE_DRIFT,
            subject_kind="unit",
            subject_id=unit_id,
            unit_id=unit_id,
            raised_at=day_start(last + 1, self.config.timezone),
            evidence=evidence,
        )

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
        if self.calibrated:
            for o, e in unit.warmup:
                self._add_to_block(unit, o, unit.theta * e)
        unit.ready = True
        unit.warmup = []

"""One unit and outcome, one complete week: the warm-up that learns its usual level, then the detector, and the
drift flag with its evidence when the detector alarms.

Calibrated detection (the default, with nb_cusum): the unit's dispersion is measured on blocks
of weeks (a person's bad spell lasts months), shrunk towards its peers' pooled figure and never below 1;
the evidence is the run of weeks over which the detector accumulated, and a flag waits until that run's
interval for the ratio, widened by the same dispersion, excludes the baseline.
"""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.intervals import poisson_count
from streams.core.org.detectors import CALIBRATED
from streams.core.org.evidence import Finding, UnitWeek, unit_flag
from streams.core.org.state import UnitDrift, Week
from streams.models.flags import Flag

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

    def __call__(self, unit: UnitDrift, uw: UnitWeek, peers_dispersion: float = 1.0) -> Flag | None:
        observed, e0 = uw.observed, uw.e0
        low, high = poisson_count(observed)
        unit.last_ratio = (uw.week, observed / e0, low / e0, high / e0, uw.group)
        if not unit.ready:
            unit.warmup.append((observed, e0))
            if len(unit.warmup) >= self.drift.outcome_warmup_weeks.get(uw.spec.outcome, self.drift.warmup_weeks):
                self._finish_warmup(unit)
            return None
        if self.calibrated:
            return self._calibrated(unit, uw, peers_dispersion)
        expected = unit.theta * e0
        step = unit.detector.update(observed, expected, unit.phi)
        flag = None
        if step.alarm and not unit.active:
            unit.active = True
            flag = self._flag(unit, uw, [uw.as_week()], (low / e0, high / e0), step.statistic)
        elif step.in_control:
            unit.active = False
            unit.theta += BASELINE_LEARNING_RATE * (observed / e0 - unit.theta)
        return flag

    def _calibrated(self, unit: UnitDrift, uw: UnitWeek, peers: float) -> Flag | None:
        observed, e0 = uw.observed, uw.e0
        prior = self.drift.dispersion_prior_blocks
        unit.phi = max(1.0, (unit.disp_sum + prior * peers) / (unit.disp_n + prior)) if unit.disp_n + prior else 1.0
        step = unit.detector.update(observed, unit.theta * e0, unit.phi)
        # The run: the weeks since the statistic was last zero, the evidence a flag rests on.
        unit.run = [] if step.statistic <= 0 else [*unit.run, uw.as_week()][-self.drift.max_window_weeks:]
        flag = None
        if step.alarm and not unit.active and unit.run:
            total_o = sum(w[1] for w in unit.run)
            total_e0 = sum(w[2] for w in unit.run)
            lo, hi = quasi_poisson_interval(total_o, unit.phi)
            # A flag is never raised while its own interval includes the baseline: the detector's alarm
            # waits (it stays above h) until the weeks it rests on say so too.
            if lo / total_e0 > unit.theta:
                unit.active = True
                flag = self._flag(unit, uw, list(unit.run), (lo / total_e0, hi / total_e0), step.statistic)
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

    def _flag(self, unit: UnitDrift, uw: UnitWeek, weeks: list[Week], interval: tuple[float, float],
              statistic: float) -> Flag:
        found = Finding(uw.spec.drift_rule, "drift", weeks, unit.theta, interval, statistic,
                        unit.detector.threshold, unit.detector.kind)
        return unit_flag(self.config, uw, found)

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
            # The warm-up's blocks are measured against a baseline fitted to the same weeks: their Pearson
            # statistics understate the dispersion by (n - 1) / n (a third with 3 blocks). When every unit
            # starts at once (a cold start), the peers' pooled figure is made of such blocks only, and an
            # understated dispersion lets one week of a few persons' bad spells make a flag.
            if unit.disp_n > 1:
                unit.disp_sum *= unit.disp_n / (unit.disp_n - 1)
        unit.ready = True
        unit.warmup = []

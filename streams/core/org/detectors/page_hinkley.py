"""Page-Hinkley (Page 1954) on the standardised residual, river's formulation, state kept by us.

The arithmetic is river's `drift.PageHinkley(min_instances=1, delta=(shift-1)/2, threshold, alpha=1,
mode="up")` step for step (a contract test runs both on seeded streams and requires the same statistic
and the same alarms). The state is our own versioned record, so that an upgrade of river can never make
the stored states of a running deployment unreadable; version 1 pickled river's object
and is read once by `_from_v1`.
"""

from __future__ import annotations

import base64
import math
import pickle
from dataclasses import dataclass
from typing import Self

from streams.core.org.detectors.base import DriftDetector, DriftStep

CLEAR_AFTER_STEPS = 4


@dataclass(slots=True)
class PageHinkleyState:
    n: float = 0.0  # observations since the last reset
    mean: float = 0.0  # their running mean
    sum_increase: float = 0.0  # cumulative deviation above the mean, less delta
    min_increase: float = math.inf  # its running minimum
    drift: bool = False  # the last update alarmed: the next one starts afresh


class PageHinkley(DriftDetector):
    kind = "page_hinkley"
    state_version = 2

    def __init__(self, shift: float = 1.75, threshold: float = 5.0) -> None:
        # shift: the rate ratio to detect; as a residual, about (shift - 1) standard deviations
        super().__init__(shift, threshold)
        self.delta = (shift - 1) / 2
        self.state = PageHinkleyState()
        self._since_alarm = CLEAR_AFTER_STEPS

    def _update(self, x: float) -> float:
        s = self.state
        if s.drift:
            s = self.state = PageHinkleyState()
        s.n += 1.0
        s.mean += (1.0 / s.n) * (x - s.mean)
        s.sum_increase = s.sum_increase + (x - s.mean) - self.delta
        s.min_increase = min(s.min_increase, s.sum_increase)
        statistic = s.sum_increase - s.min_increase
        s.drift = statistic > self.threshold
        return statistic

    def update(self, observed: float, expected: float, dispersion: float) -> DriftStep:
        z = (observed - expected) / math.sqrt(max(dispersion, 1.0) * max(expected, 1e-9))
        statistic = self._update(z)
        alarm = self.state.drift
        self._since_alarm = 0 if alarm else self._since_alarm + 1
        calm = self._since_alarm >= CLEAR_AFTER_STEPS and z < (self.shift - 1) / 2
        return DriftStep(statistic, alarm, calm)

    def to_dict(self) -> dict[str, object]:
        s = self.state
        return {**self._header(), "n": s.n, "mean": s.mean, "sum_increase": s.sum_increase,
                "min_increase": None if math.isinf(s.min_increase) else s.min_increase, "drift": s.drift,
                "since_alarm": self._since_alarm}

    @classmethod
    def from_dict(cls, d: dict) -> Self:  # type: ignore[type-arg]
        ph = cls(float(d["shift"]), float(d["threshold"]))
        ph._since_alarm = int(d["since_alarm"])
        if "ph" in d:
            ph.state = _from_v1(d["ph"])
            return ph
        cls._check_version(d)
        low = d["min_increase"]
        ph.state = PageHinkleyState(float(d["n"]), float(d["mean"]), float(d["sum_increase"]),
                                    math.inf if low is None else float(low), bool(d["drift"]))
        return ph


def _from_v1(blob: str) -> PageHinkleyState:
    """Version 1 stored river 0.26's PageHinkley pickled (written only by this project, never received)."""
    old = pickle.loads(base64.b64decode(blob))  # noqa: S301 - our own stored state, see the docstring
    return PageHinkleyState(float(old._x_mean.n), float(old._x_mean.get()), float(old._sum_increase),
                            float(old._min_increase), bool(old.drift_detected))

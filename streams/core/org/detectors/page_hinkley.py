"""river's Page-Hinkley test on the same residuals, kept as the measured alternative to the CUSUM."""

from __future__ import annotations

import base64
import math
import pickle

from river.drift import PageHinkley

from streams.core.org.detectors.base import DriftStep

CLEAR_AFTER_STEPS = 4


class RiverPageHinkley:
    kind = "page_hinkley"

    def __init__(self, shift: float = 1.75, threshold: float = 5.0) -> None:
        self.shift = shift  # rate ratio to detect; as a residual, about (shift - 1) standard deviations
        self.threshold = threshold
        self._ph = PageHinkley(min_instances=1, delta=(shift - 1) / 2, threshold=threshold, alpha=1.0,
                               mode="up")
        self._since_alarm = CLEAR_AFTER_STEPS

    def update(self, observed: float, expected: float, dispersion: float) -> DriftStep:
        z = (observed - expected) / math.sqrt(max(dispersion, 1.0) * max(expected, 1e-9))
        self._ph.update(z)
        alarm = bool(self._ph.drift_detected)
        self._since_alarm = 0 if alarm else self._since_alarm + 1
        statistic = float(self._ph._sum_increase - self._ph._min_increase)  # river keeps these private
        calm = self._since_alarm >= CLEAR_AFTER_STEPS and z < (self.shift - 1) / 2
        return DriftStep(statistic, alarm, calm)

    def to_dict(self) -> dict[str, object]:
        blob = base64.b64encode(pickle.dumps(self._ph)).decode("ascii")
        return {"kind": self.kind, "shift": self.shift, "threshold": self.threshold, "ph": blob,
                "since_alarm": self._since_alarm}

    @classmethod
    def from_dict(cls, d: dict) -> RiverPageHinkley:  # type: ignore[type-arg]
        r = cls(float(d["shift"]), float(d["threshold"]))
        r._ph = pickle.loads(base64.b64decode(d["ph"]))  # our own state, written by to_dict
        r._since_alarm = int(d["since_alarm"])
        return r

    def clone(self) -> RiverPageHinkley:
        return RiverPageHinkley(self.shift, self.threshold)

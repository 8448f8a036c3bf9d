"""Poisson CUSUM (Lucas 1985): the log-likelihood ratio of a rate `shift` times the expected one,
accumulated and reset at zero; alarm when it passes `threshold`. Divided by the overdispersion so that
clustered counts do not look like evidence."""

from __future__ import annotations

import math
from typing import Self

from streams.core.org.detectors.base import DriftDetector, DriftStep


class Cusum(DriftDetector):
    kind = "cusum"
    state_version = 1  # a state written before it had a version carries none: the same fields

    def __init__(self, shift: float = 1.75, threshold: float = 5.0) -> None:
        if shift <= 1:
            raise ValueError("the CUSUM's design shift is a rate ratio above 1")
        super().__init__(shift, threshold)
        self._s = 0.0

    def update(self, observed: float, expected: float, dispersion: float) -> DriftStep:
        llr = (observed * math.log(self.shift) - (self.shift - 1) * expected) / max(dispersion, 1.0)
        # Capped at h so that a unit that recovers is back in control within weeks, not years.
        self._s = min(max(0.0, self._s + llr), self.threshold * 1.0001)
        return DriftStep(self._s, self._s > self.threshold, self._s == 0.0)

    def to_dict(self) -> dict[str, object]:
        return {**self._header(), "s": self._s}

    @classmethod
    def from_dict(cls, d: dict) -> Self:  # type: ignore[type-arg]
        cls._check_version(d, *((None,) if cls is Cusum else ()))
        c = cls(float(d["shift"]), float(d["threshold"]))
        c._s = float(d["s"])
        return c

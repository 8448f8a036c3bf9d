"""Negative-binomial CUSUM (Hawkins & Olwell 1998): the log-likelihood ratio of a rate `shift` times the
expected one when weekly counts vary `dispersion` times more than Poisson, accumulated and reset at zero;
alarm when it passes `threshold`.

Sick-leave occasions cluster within persons (bad spells of a few months), so a unit's counts are
overdispersed. The NB size r = expected / (dispersion - 1) gives the in-control variance
dispersion x expected; with dispersion 1 this is the Poisson CUSUM. Unlike dividing a Poisson log-likelihood
ratio by the dispersion, a single very high week adds a bounded amount of evidence, as it should when one
person's spell can make it. The dispersion itself is estimated by the caller (unit_step.py), from the
unit's and its peers' history.
"""

from __future__ import annotations

import math

from streams.core.org.detectors.base import DriftStep
from streams.core.org.detectors.cusum import Cusum


class NbCusum(Cusum):
    """The Poisson CUSUM's statistic, cap and state, with the negative-binomial log-likelihood ratio."""

    kind = "nb_cusum"
    state_version = 1

    def __init__(self, shift: float = 1.75, threshold: float = 5.5) -> None:
        super().__init__(shift, threshold)

    def llr(self, observed: float, expected: float, dispersion: float) -> float:
        """Log-likelihood ratio of one period: mean shift x expected against expected, NB of size r."""
        mu0 = max(expected, 1e-9)
        mu1 = self.shift * mu0
        if dispersion <= 1.0 + 1e-9:
            return observed * math.log(self.shift) - (mu1 - mu0)
        r = mu0 / (dispersion - 1.0)
        return observed * math.log(mu1 * (r + mu0) / (mu0 * (r + mu1))) - r * math.log((r + mu1) / (r + mu0))

    def update(self, observed: float, expected: float, dispersion: float) -> DriftStep:
        # Capped just above h, as the Poisson CUSUM: a unit that recovers is back in control within weeks.
        self._s = min(max(0.0, self._s + self.llr(observed, expected, dispersion)), self.threshold * 1.0001)
        return DriftStep(self._s, self._s > self.threshold, self._s == 0.0)

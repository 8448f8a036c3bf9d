"""What every drift detector offers: observed vs expected counts in, a decision out, state as a dict."""

from __future__ import annotations

from typing import NamedTuple, Protocol


class DriftStep(NamedTuple):
    statistic: float
    alarm: bool
    in_control: bool


class DriftDetector(Protocol):
    kind: str
    shift: float
    threshold: float

    def update(self, observed: float, expected: float, dispersion: float) -> DriftStep:
        """Take the next period: observed count, expected count in control, overdispersion (>= 1)."""
        ...

    def to_dict(self) -> dict[str, object]: ...

    def clone(self) -> DriftDetector:
        """A fresh detector with the same parameters and no learned state."""
        ...

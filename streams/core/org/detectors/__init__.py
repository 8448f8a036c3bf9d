"""Online drift detectors for a unit's trend-adjusted sick leave. One algorithm per module."""

from __future__ import annotations

from streams.core.org.detectors.base import DriftDetector, DriftStep
from streams.core.org.detectors.cusum import Cusum
from streams.core.org.detectors.page_hinkley import RiverPageHinkley


def make_detector(name: str, shift: float, threshold: float) -> DriftDetector:
    if name == "cusum":
        return Cusum(shift=shift, threshold=threshold)
    if name == "page_hinkley":
        return RiverPageHinkley(shift=shift, threshold=threshold)
    raise ValueError(f"unknown drift detector {name!r}")


def detector_from_dict(d: dict) -> DriftDetector:  # type: ignore[type-arg]
    kinds: dict[str, type[Cusum] | type[RiverPageHinkley]] = {
        "cusum": Cusum, "page_hinkley": RiverPageHinkley,
    }
    return kinds[d["kind"]].from_dict(d)


__all__ = ["Cusum", "DriftDetector", "DriftStep", "RiverPageHinkley", "detector_from_dict", "make_detector"]

"""Online drift detectors for a unit's trend-adjusted sick leave, one algorithm per module.

A new detector is a module here (a class with `kind`, `update`, `to_dict`, `from_dict`, `clone`; see
`base.DriftDetector`) plus one line in `DETECTORS`, and its `kind` in `DriftConfig.detector`.
"""

from __future__ import annotations

from streams.core.org.detectors.base import DriftDetector, DriftStep
from streams.core.org.detectors.cusum import Cusum
from streams.core.org.detectors.page_hinkley import PageHinkley

DETECTORS: dict[str, type[Cusum] | type[PageHinkley]] = {
    Cusum.kind: Cusum,
    PageHinkley.kind: PageHinkley,
}


def make_detector(kind: str, shift: float, threshold: float) -> DriftDetector:
    if kind not in DETECTORS:
        raise ValueError(f"unknown drift detector {kind!r}; known: {', '.join(DETECTORS)}")
    return DETECTORS[kind](shift=shift, threshold=threshold)


def detector_from_dict(d: dict) -> DriftDetector:  # type: ignore[type-arg]
    return DETECTORS[d["kind"]].from_dict(d)


__all__ = ["DETECTORS", "Cusum", "DriftDetector", "DriftStep", "PageHinkley", "detector_from_dict",
           "make_detector"]

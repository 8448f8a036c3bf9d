"""Online drift detectors for a unit's trend-adjusted sick leave, one algorithm per module.

A new detector is a module here (a subclass of `base.DriftDetector` with its `kind`, `state_version`,
`update`, `to_dict` and `from_dict`; a contract battery in tests/unit/core/org/test_detector_contract.py runs over
every one) plus one line in `DETECTORS`, and its `kind` in `DriftConfig.detector`; in
`CALIBRATED` too if it is made for overdispersed counts (then, by default, its unit's dispersion is pooled
with the peers' and its flags wait for their interval to exclude the baseline: org/unit_step.py).
"""

from __future__ import annotations

from streams.core.org.detectors.base import DriftDetector, DriftStep
from streams.core.org.detectors.cusum import Cusum
from streams.core.org.detectors.nb_cusum import NbCusum
from streams.core.org.detectors.page_hinkley import PageHinkley

DETECTORS: dict[str, type[DriftDetector]] = {
    NbCusum.kind: NbCusum,
    Cusum.kind: Cusum,
    PageHinkley.kind: PageHinkley,
}


# Detectors calibrated for overdispersed counts: by default their unit's dispersion is pooled with its
# peers' and a flag waits until its own interval excludes the baseline (DriftConfig.calibrated).
CALIBRATED = frozenset({NbCusum.kind})


def check_kind(kind: str) -> None:
    """An unknown kind fails here, at the configuration's first use, naming the known ones."""
    if kind not in DETECTORS:
        raise ValueError(f"unknown drift detector {kind!r}; known: {', '.join(DETECTORS)}")


def make_detector(kind: str, shift: float | None = None, threshold: float | None = None) -> DriftDetector:
    """A fresh detector; a parameter left None takes the detector's own default."""
    check_kind(kind)
    params = {k: v for k, v in (("shift", shift), ("threshold", threshold)) if v is not None}
    return DETECTORS[kind](**params)  # type: ignore[arg-type]


def detector_from_dict(d: dict) -> DriftDetector:  # type: ignore[type-arg]
    return DETECTORS[d["kind"]].from_dict(d)


__all__ = ["CALIBRATED", "DETECTORS", "Cusum", "check_kind", "DriftDetector", "DriftStep", "NbCusum", "PageHinkley",
           "detector_from_dict", "make_detector"]

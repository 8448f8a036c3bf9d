"""What every drift detector is, in river's `DriftDetector` shape: constructor parameters kept unchanged as
public attributes, learned state in underscore attributes; observed vs expected counts in, a decision out;
its state a versioned plain-JSON dict (a Faust table keeps it) read back by `from_dict`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, NamedTuple, Self


class DriftStep(NamedTuple):
    statistic: float
    alarm: bool
    in_control: bool


class DriftDetector(ABC):
    kind: ClassVar[str]
    state_version: ClassVar[int]

    def __init__(self, shift: float, threshold: float) -> None:
        self.shift = shift
        self.threshold = threshold

    @abstractmethod
    def update(self, observed: float, expected: float, dispersion: float) -> DriftStep:
        """Take the next period: observed count, expected count in control, overdispersion (>= 1)."""

    @abstractmethod
    def to_dict(self) -> dict[str, object]:
        """The state with `kind` and `version`, plain JSON."""

    @classmethod
    @abstractmethod
    def from_dict(cls, d: dict) -> Self:  # type: ignore[type-arg]
        """A detector from `to_dict`'s output, of this version or an older one."""

    def clone(self) -> Self:
        """A fresh detector with the same parameters and no learned state."""
        return type(self)(self.shift, self.threshold)

    def _header(self) -> dict[str, object]:
        return {"kind": self.kind, "version": self.state_version, "shift": self.shift,
                "threshold": self.threshold}

    @classmethod
    def _check_version(cls, d: dict, *older: object) -> None:  # type: ignore[type-arg]
        if d.get("version") not in (cls.state_version, *older):
            raise ValueError(f"unknown {cls.kind} state version {d.get('version')!r}")

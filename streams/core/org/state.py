"""What the organisation stage learns and keeps: the unit-day series, each unit's drift state, the weeks
evaluated and their snapshots. Versioned and JSON-serialisable (a Faust table keeps it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.org.detectors import DriftDetector, detector_from_dict
from streams.models.flags import Flag

STATE_VERSION = 1


@dataclass(slots=True)
class UnitDrift:
    """Learned per unit: baseline ratio, dispersion, detector, whether a flag is open."""

    detector: DriftDetector
    warmup: list[tuple[float, float]] = field(default_factory=list)
    theta: float = 0.0
    phi: float = 1.0
    ready: bool = False
    active: bool = False
    last_ratio: tuple[int, float, float, float, int] | None = None  # (week, ratio, low, high, headcount)
    # Calibrated detection (issue 14); a state written before has none of these and starts them empty.
    disp_sum: float = 0.0  # Pearson statistics of the unit's in-control blocks of weeks, discounted
    disp_n: float = 0.0  # how many blocks, discounted alike
    block: tuple[float, float, int] = (0.0, 0.0, 0)  # the block being filled: observed, expected, weeks
    run: list[tuple[int, float, float]] = field(default_factory=list)  # (week, observed, e0) since the
    # detector's statistic was last zero: the weeks that make the evidence

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "detector": self.detector.to_dict(), "warmup": [list(w) for w in self.warmup],
            "theta": self.theta, "phi": self.phi, "ready": self.ready, "active": self.active,
            "last_ratio": list(self.last_ratio) if self.last_ratio else None}
        if self.disp_n or self.block[2] or self.run:
            d.update({"disp_sum": self.disp_sum, "disp_n": self.disp_n, "block": list(self.block),
                      "run": [list(r) for r in self.run]})
        return d

    @classmethod
    def from_dict(cls, d: dict) -> UnitDrift:  # type: ignore[type-arg]
        lr = d["last_ratio"]
        block = d.get("block", (0.0, 0.0, 0))
        return cls(detector_from_dict(d["detector"]), [(float(o), float(e)) for o, e in d["warmup"]],
                   float(d["theta"]), float(d["phi"]), bool(d["ready"]), bool(d["active"]),
                   (int(lr[0]), float(lr[1]), float(lr[2]), float(lr[3]), int(lr[4])) if lr else None,
                   float(d.get("disp_sum", 0.0)), float(d.get("disp_n", 0.0)),
                   (float(block[0]), float(block[1]), int(block[2])),
                   [(int(w), float(o), float(e)) for w, o, e in d.get("run", [])])


@dataclass(slots=True)
class OrgState:
    series: dict[str, dict[int, tuple[float, float, int]]] = field(default_factory=dict)
    clock_day: int = 0
    evaluated_week: int = -1
    units: dict[str, UnitDrift] = field(default_factory=dict)
    snapshots: dict[int, dict[str, dict]] = field(default_factory=dict)  # type: ignore[type-arg]
    recent_flags: dict[str, Flag] = field(default_factory=dict)
    late_for_drift: int = 0
    origin_week: int = -1  # the week evaluation started from (with no learned state)
    # The latest day each unit has reported. Weeks are evaluated up to the slowest unit's day, so a unit
    # whose data comes later (partitions of a backfill run at different speeds) is never judged late.
    unit_days: dict[str, int] = field(default_factory=dict)
    dirty_week: int = -1  # the earliest week changed since it was last evaluated (-1: none)
    restart: bool = False  # data came for a week before the first evaluated: start over

    def to_dict(self) -> dict[str, object]:
        return {
            "version": STATE_VERSION,
            "series": {u: {str(d): list(v) for d, v in s.items()} for u, s in self.series.items()},
            "clock_day": self.clock_day,
            "evaluated_week": self.evaluated_week,
            "units": {u: s.to_dict() for u, s in self.units.items()},
            "snapshots": {str(w): s for w, s in self.snapshots.items()},
            "recent_flags": [f.model_dump(mode="json") for f in self.recent_flags.values()],
            "late_for_drift": self.late_for_drift,
            "origin_week": self.origin_week,
            "unit_days": self.unit_days,
            "dirty_week": self.dirty_week,
            "restart": self.restart,
        }

    @classmethod
    def from_dict(cls, d: dict) -> OrgState:  # type: ignore[type-arg]
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"unknown org state version {d.get('version')!r}")
        flags = [Flag.model_validate(f) for f in d["recent_flags"]]
        return cls(
            series={u: {int(k): (float(v[0]), float(v[1]), int(v[2])) for k, v in s.items()}
                    for u, s in d["series"].items()},
            clock_day=int(d["clock_day"]),
            evaluated_week=int(d["evaluated_week"]),
            units={u: UnitDrift.from_dict(s) for u, s in d["units"].items()},
            snapshots={int(w): s for w, s in d["snapshots"].items()},
            recent_flags={f.flag_id: f for f in flags},
            late_for_drift=int(d["late_for_drift"]),
            origin_week=int(d["origin_week"]),
            unit_days={str(u): int(v) for u, v in d.get("unit_days", {}).items()},
            dirty_week=int(d.get("dirty_week", -1)),
            restart=bool(d.get("restart", False)),
        )

    def evaluation_day(self, horizon_days: int) -> int:
        """The slowest unit's latest day, among the units heard from within `horizon_days` of the latest
        day of all (a unit silent for longer, e.g. closed, does not hold the others back)."""
        active = [d for d in self.unit_days.values() if d >= self.clock_day - horizon_days]
        return min(active, default=self.clock_day)

"""What the organisation stage learns and keeps: the unit-day series, each unit's monitoring state per
outcome, the weeks evaluated and their snapshots. Versioned and JSON-serialisable (a Faust table keeps it).

Version 2 monitors care outcomes too: the series carries a care unit's figures, the units'
states are kept per outcome. A version-1 state (sick leave only) is read as version 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.org.detectors import DriftDetector, detector_from_dict
from streams.core.org.latest_days import LatestDays
from streams.core.unit.summary import DayFigures, day_figures
from streams.models.flags import Flag
from streams.models.vocab import UnitOutcome

STATE_VERSION = 4  # 3: the first day each unit reported (the cold start); 4: beds of unplanned stays

#: Where a unit-day's `DayFigures` hold its changes: to its care population, to the beds of its unplanned stays.
CARE_CHANGE, BEDS_CHANGE = 7, 8
CHANGE_INDICES = (CARE_CHANGE, BEDS_CHANGE)

Week = tuple[int, float, float, float]  # (week, observed, expected at the peers' rate e0, exposure)


@dataclass(slots=True)
class UnitDrift:
    """Learned per unit and outcome: baseline ratio, dispersion, detector, whether a flag is open."""

    detector: DriftDetector
    warmup: list[tuple[float, float]] = field(default_factory=list)
    theta: float = 0.0
    phi: float = 1.0
    ready: bool = False
    active: bool = False
    last_ratio: tuple[int, float, float, float, int] | None = None  # (week, ratio, low, high, group size)
    # Calibrated detection; a state of version 1 has none of these and starts them empty.
    disp_sum: float = 0.0  # Pearson statistics of the unit's in-control blocks of weeks, discounted
    disp_n: float = 0.0  # how many blocks, discounted alike
    block: tuple[float, float, int] = (0.0, 0.0, 0)  # the block being filled: observed, expected, weeks
    run: list[Week] = field(default_factory=list)  # the weeks since the detector's statistic was last
    # zero: the weeks that make a drift flag's evidence
    recent: list[Week] = field(default_factory=list)  # the last weeks tested: a level flag's evidence
    level_active: bool = False  # a level flag is open (raised, and the level still holds)

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "detector": self.detector.to_dict(), "warmup": [list(w) for w in self.warmup],
            "theta": self.theta, "phi": self.phi, "ready": self.ready, "active": self.active,
            "last_ratio": list(self.last_ratio) if self.last_ratio else None}
        if self.disp_n or self.block[2] or self.run:
            d.update({"disp_sum": self.disp_sum, "disp_n": self.disp_n, "block": list(self.block),
                      "run": [list(r) for r in self.run]})
        if self.recent or self.level_active:
            d.update({"recent": [list(r) for r in self.recent], "level_active": self.level_active})
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
                   [_week(r) for r in d.get("run", [])], [_week(r) for r in d.get("recent", [])],
                   bool(d.get("level_active", False)))


def _trimmed(v: DayFigures) -> list[float]:
    """A unit-day without its trailing zeros (a workplace's care figures, a care unit's after the first
    three are read back as zeros): the organisation's state is one table record, kept small."""
    n = len(v)
    while n > 3 and not v[n - 1]:
        n -= 1
    return list(v[:n])


def _week(r: list) -> Week:  # type: ignore[type-arg]
    """A stored week; one written before level flags had no exposure (0: unknown)."""
    return (int(r[0]), float(r[1]), float(r[2]), float(r[3]) if len(r) > 3 else 0.0)


@dataclass(slots=True)
class OrgState:
    series: dict[str, dict[int, DayFigures]] = field(default_factory=dict)
    clock_day: int = 0
    evaluated_week: int = -1
    monitors: dict[str, dict[str, UnitDrift]] = field(default_factory=dict)  # outcome -> unit -> state
    snapshots: dict[int, dict[str, dict[str, dict]]] = field(default_factory=dict)  # type: ignore[type-arg]
    recent_flags: dict[str, Flag] = field(default_factory=dict)
    late_for_drift: int = 0
    origin_week: int = -1  # the week evaluation started from (with no learned state)
    # The latest day each unit has reported. Weeks are evaluated up to the slowest unit's day, so a unit
    # whose data comes later (partitions of a backfill run at different speeds) is never judged late.
    unit_days: dict[str, int] = field(default_factory=dict)
    dirty_week: int = -1  # the earliest week changed since it was last evaluated (-1: none)
    restart: bool = False  # data came for a week before the first evaluated: start over
    # Per care unit: its care population changes on the days forgotten from the series, summed (the
    # population on a day is this plus the changes in the series up to that day).
    care_base: dict[str, float] = field(default_factory=dict)
    # The same for the beds occupied by unplanned stays (their changes on the days forgotten, summed).
    beds_base: dict[str, float] = field(default_factory=dict)
    # The care units, a peer group of their own with its own clock (this state's are the workplaces).
    care: OrgState | None = None
    # The first day each unit reported, never forgotten: where its history begins, from which its figures
    # that need a look-back are complete (coverage.py). A state written before version 3 takes each unit's
    # history to begin with the earliest day it still held.
    first_days: dict[str, int] = field(default_factory=dict)
    # The first day whose beds of unplanned stays are known (0: all): a state written before they were
    # counted holds none for its days, whose weeks of inpatient days are then incomplete (coverage.py).
    beds_from: int = 0
    # Flag versions this group's evaluations produced that are not known to have been sent: the worker
    # writes them with the state before it sends them, and sends them again from a state a restart resumes
    # from (agents/stages/organisation.py). Replay sends as it goes and leaves this empty.
    unsent: list[Flag] = field(default_factory=list)
    # The day before which the series were last forgotten (-1: not since a day before it came, or since
    # loading): while evaluation's horizon stays there, nothing older can be in them, and forgetting
    # skips its pass over every unit's series. Not part of the state.
    forgotten_before: int = field(default=-1, repr=False, compare=False)
    # Per (change index, unit): a day and the running sum of that change up to it, base included, as the
    # last evaluation left it and amended since (weeks.py: `RunningSums`). Not part of the state.
    running: dict[tuple[int, str], tuple[int, float]] = field(default_factory=dict, repr=False, compare=False)
    # The names of the parts (parts.py) changed since the state was last written as parts, in the order
    # first changed; None: every part (a state new, or read whole). Not part of the state.
    changed: dict[str, None] | None = field(default=None, repr=False, compare=False)
    # `unit_days` counted per day, in order (latest_days.py), built when first asked for and kept up by
    # `reached`: evaluation_day without a pass over every unit. Not part of the state.
    latest: LatestDays | None = field(default=None, repr=False, compare=False)
    # The earliest day the series hold (None: not known, found when asked for, `earliest_held`). Not part
    # of the state.
    held_from: int | None = field(default=None, repr=False, compare=False)

    def touch(self, part: str) -> None:
        """A part of the state changed (parts.py names them): written with the next delta."""
        if self.changed is not None:
            self.changed[part] = None

    def units(self, outcome: UnitOutcome) -> dict[str, UnitDrift]:
        """The units' states for one outcome."""
        return self.monitors.setdefault(outcome.value, {})

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "version": STATE_VERSION,
            "series": {u: {str(d): _trimmed(v) for d, v in s.items()} for u, s in self.series.items()},
            "clock_day": self.clock_day,
            "evaluated_week": self.evaluated_week,
            "monitors": {o: {u: s.to_dict() for u, s in units.items()} for o, units in self.monitors.items()},
            "snapshots": {str(w): s for w, s in self.snapshots.items()},
            "recent_flags": [f.model_dump(mode="json") for f in self.recent_flags.values()],
            "late_for_drift": self.late_for_drift,
            "origin_week": self.origin_week,
            "unit_days": self.unit_days,
            "dirty_week": self.dirty_week,
            "restart": self.restart,
            "care_base": self.care_base,
            "beds_base": self.beds_base,
            "care": self.care.to_dict() if self.care is not None else None,
            "first_days": self.first_days,
            "beds_from": self.beds_from,
        }
        if self.unsent:  # only the worker's (replay sends as it goes): a replay's state is as before
            d["unsent"] = [f.model_dump(mode="json") for f in self.unsent]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> OrgState:  # type: ignore[type-arg]
        version = d.get("version")
        if version not in (1, 2, 3, STATE_VERSION):
            raise ValueError(f"unknown org state version {version!r}")
        flags = [Flag.model_validate(f) for f in d["recent_flags"]]
        if version == 1:  # sick leave was the only outcome: its units and snapshots are that outcome's
            monitors = {UnitOutcome.SICK_LEAVE.value: d["units"]}
            snapshots = {w: {UnitOutcome.SICK_LEAVE.value: s} for w, s in d["snapshots"].items()}
        else:
            monitors, snapshots = d["monitors"], d["snapshots"]
        state = cls(
            series={u: {int(k): day_figures(v) for k, v in s.items()} for u, s in d["series"].items()},
            clock_day=int(d["clock_day"]),
            evaluated_week=int(d["evaluated_week"]),
            monitors={o: {u: UnitDrift.from_dict(s) for u, s in units.items()} for o, units in monitors.items()},
            snapshots={int(w): s for w, s in snapshots.items()},
            recent_flags={f.flag_id: f for f in flags},
            unsent=[Flag.model_validate(f) for f in d.get("unsent", [])],
            late_for_drift=int(d["late_for_drift"]),
            origin_week=int(d["origin_week"]),
            unit_days={str(u): int(v) for u, v in d.get("unit_days", {}).items()},
            dirty_week=int(d.get("dirty_week", -1)),
            restart=bool(d.get("restart", False)),
            care_base={str(u): float(v) for u, v in d.get("care_base", {}).items()},
            beds_base={str(u): float(v) for u, v in d.get("beds_base", {}).items()},
            care=OrgState.from_dict(d["care"]) if d.get("care") else None,
            first_days=({str(u): int(v) for u, v in d["first_days"].items()} if "first_days" in d
                        else {str(u): min(int(k) for k in s) for u, s in d["series"].items() if s}),
            beds_from=int(d.get("beds_from", d["clock_day"] + 1)),
        )
        if "first_days" not in d:
            # Written before the cold start was known: each unit's history is taken to begin with the
            # earliest day still held, and the weeks held are evaluated again with this release's rules
            # (as a replay of the same history would), their flags revised or withdrawn where they differ.
            state.restart = True
        return state

    def reached(self, unit_id: str, day: int) -> None:
        """The unit reported `day`: its latest day (`unit_days`) moves up to it if it is later."""
        old = self.unit_days.get(unit_id)
        if old is None or day > old:
            self.unit_days[unit_id] = day
            if self.latest is not None:
                self.latest.move(old, day)

    def evaluation_day(self, horizon_days: int) -> int:
        """The slowest unit's latest day, among the units heard from within `horizon_days` of the latest
        day of all (a unit silent for longer, e.g. closed, does not hold the others back)."""
        if self.latest is None:
            self.latest = LatestDays(self.unit_days.values())
        return self.latest.first_from(self.clock_day - horizon_days, self.clock_day)

    def hold(self, day: int) -> None:
        """A day was written to the series: the earliest held follows it, if known."""
        if self.held_from is not None and day < self.held_from:
            self.held_from = day

    def earliest_held(self) -> int:
        """The earliest day in any unit's series (there must be one)."""
        if self.held_from is None:
            self.held_from = min(min(series) for series in self.series.values() if series)
        return self.held_from

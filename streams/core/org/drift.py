"""Unit sick-leave drift, adjusted for the trend common to the whole organisation.

Each complete week, for each unit u: O = its new sick-leave occasions (or sick days, by configuration),
E0 = its headcount-days x the same rate in the *rest* of the organisation in the same week (so a flu
season that lifts every unit lifts E0 too).
A warm-up learns the unit's usual ratio theta = sum O / sum E0 and the overdispersion phi; after it, the
observed O and expected theta E0 go to a drift detector (a Poisson CUSUM by default, river's
Page-Hinkley on the standardised residual as the alternative). Late data that changes a week already
evaluated makes the weeks from there be evaluated again from a snapshot, so the final flags depend only
on the data, not on its order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.core.config import MonitorConfig
from streams.core.flag_ids import flag_id
from streams.core.intervals import poisson_count
from streams.core.org.detectors import DriftDetector, detector_from_dict, make_detector
from streams.core.timebase import day_start, day_to_date, week_days, week_of
from streams.core.unit.tracker import DaySummary
from streams.models.flags import DriftEvidence, Flag, FlagStatus, Interval, Rule

STATE_VERSION = 1
BASELINE_LEARNING_RATE = 1 / 52  # in control, theta follows slow change with a one-year memory


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

    def to_dict(self) -> dict[str, object]:
        return {"detector": self.detector.to_dict(), "warmup": [list(w) for w in self.warmup],
                "theta": self.theta, "phi": self.phi, "ready": self.ready, "active": self.active,
                "last_ratio": list(self.last_ratio) if self.last_ratio else None}

    @classmethod
    def from_dict(cls, d: dict) -> UnitDrift:  # type: ignore[type-arg]
        lr = d["last_ratio"]
        return cls(detector_from_dict(d["detector"]), [(float(o), float(e)) for o, e in d["warmup"]],
                   float(d["theta"]), float(d["phi"]), bool(d["ready"]), bool(d["active"]),
                   (int(lr[0]), float(lr[1]), float(lr[2]), float(lr[3]), int(lr[4])) if lr else None)


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


class OrgDrift:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.drift = config.drift

    def apply(self, state: OrgState, summaries: list[DaySummary]) -> list[Flag]:
        """Take unit-day summaries; return new, revised and withdrawn drift flags."""
        if not summaries:
            return []
        oldest_snapshot = min(state.snapshots, default=None)
        # Until the first snapshot has been forgotten, evaluation can start over from an earlier week:
        # data for a week before the first one evaluated (another unit's, delayed) is not late.
        can_restart = oldest_snapshot is not None and oldest_snapshot == state.origin_week
        restart = False
        dirty: int | None = None
        for s in summaries:
            week = week_of(s.day)
            if oldest_snapshot is not None and week < oldest_snapshot:
                if not can_restart:
                    state.late_for_drift += 1
                    continue
                restart = True
            state.series.setdefault(s.unit_id, {})[s.day] = (s.sick_days, s.occasions, s.headcount)
            dirty = week if dirty is None else min(dirty, week)
            state.clock_day = max(state.clock_day, s.day)
            state.unit_days[s.unit_id] = max(state.unit_days.get(s.unit_id, s.day), s.day)
        if dirty is None:
            return []
        # What must be evaluated again is remembered until it can be: the slowest unit may not have
        # reached the dirty week yet.
        state.dirty_week = dirty if state.dirty_week < 0 else min(state.dirty_week, dirty)
        state.restart = state.restart or restart
        last_complete = week_of(state.evaluation_day(7 * self.drift.refold_weeks)) - 1
        previous = state.recent_flags
        if state.restart or state.evaluated_week < 0:
            start = week_of(min(min(series) for series in state.series.values() if series))
            if start > last_complete:
                return []
            state.units, state.snapshots, state.evaluated_week = {}, {}, -1
            state.origin_week = start
        else:
            start = min(state.dirty_week, state.evaluated_week + 1)
            if start > last_complete:
                return []
            if start <= state.evaluated_week:
                self._restore(state, start)
        state.dirty_week, state.restart = -1, False

        # Weeks start..last_complete are evaluated (again) now. Flags of later weeks, evaluated before the
        # slowest unit fell back (a unit heard from for the first time), are compared when those weeks are
        # evaluated again; their snapshots are stale and go.
        def redone(f: Flag) -> bool:
            return start <= _week_of_flag(f) <= last_complete

        before = {fid: f for fid, f in previous.items() if redone(f)}
        state.recent_flags = {fid: f for fid, f in previous.items() if not redone(f)}
        state.snapshots = {w: snap for w, snap in state.snapshots.items() if w < start}
        after: dict[str, Flag] = {}
        for week in range(start, last_complete + 1):
            state.snapshots[week] = {u: s.to_dict() for u, s in state.units.items()}
            for flag in self._evaluate_week(state, week):
                after[flag.flag_id] = flag
        state.evaluated_week = last_complete
        state.recent_flags.update(after)
        self._forget(state)

        changes = [f for fid, f in after.items() if before.get(fid) != f]
        changes += [f.model_copy(update={"status": FlagStatus.WITHDRAWN})
                    for fid, f in before.items() if fid not in after]
        return changes

    def _restore(self, state: OrgState, week: int) -> None:
        snap = state.snapshots[week]
        state.units = {u: UnitDrift.from_dict(s) for u, s in snap.items()}

    def _week_totals(self, state: OrgState, week: int) -> dict[str, tuple[float, float, float, int]]:
        """Per unit over the week's days present: (sick days, occasions, headcount-days, last headcount)."""
        out = {}
        days = week_days(week)
        for unit_id, series in state.series.items():
            sick = occasions = exposure = 0.0
            last_hc = 0
            for d in days:
                v = series.get(d)
                if v is not None:
                    sick += v[0]
                    occasions += v[1]
                    exposure += v[2]
                    last_hc = v[2]
            if exposure > 0:
                out[unit_id] = (sick, occasions, exposure, last_hc)
        return out

    def _evaluate_week(self, state: OrgState, week: int) -> list[Flag]:
        totals = self._week_totals(state, week)
        signal_index = 1 if self.drift.signal == "occasions" else 0
        all_signal = sum(v[signal_index] for v in totals.values())
        all_sick = sum(v[0] for v in totals.values())
        all_exposure = sum(v[2] for v in totals.values())
        flags = []
        for unit_id in sorted(totals):
            week_totals = totals[unit_id]
            sick, _, exposure, headcount = week_totals
            observed = week_totals[signal_index]
            rest_signal, rest_exposure = all_signal - observed, all_exposure - exposure
            if rest_exposure <= 0 or rest_signal <= 0 or headcount < self.drift.min_headcount:
                continue
            e0 = exposure * rest_signal / rest_exposure
            unit = state.units.get(unit_id)
            if unit is None:
                unit = state.units[unit_id] = UnitDrift(
                    make_detector(self.drift.detector, self.drift.shift, self.drift.threshold))
            rates = (round(sick / exposure, 5), round((all_sick - sick) / rest_exposure, 5))
            flag = self._step_unit(unit, unit_id, week, observed, e0, rates, headcount)
            if flag is not None:
                flags.append(flag)
        return flags

    def _step_unit(self, unit: UnitDrift, unit_id: str, week: int, observed: float, e0: float,
                   rates: tuple[float, float], headcount: int) -> Flag | None:
        low, high = poisson_count(observed)
        unit.last_ratio = (week, observed / e0, low / e0, high / e0, headcount)
        if not unit.ready:
            unit.warmup.append((observed, e0))
            if len(unit.warmup) >= self.drift.warmup_weeks:
                self._finish_warmup(unit)
            return None
        expected = unit.theta * e0
        step = unit.detector.update(observed, expected, unit.phi)
        flag = None
        if step.alarm and not unit.active:
            unit.active = True
            last = week_days(week)[-1]
            evidence = DriftEvidence(
                detector=unit.detector.kind,
                signal=self.drift.signal,
                window_start=day_to_date(week_days(week)[0]),
                window_end=day_to_date(last),
                baseline_ratio=round(unit.theta, 4),
                current_ratio=round(observed / e0, 4),
                current_interval=Interval(low=round(low / e0, 4), high=round(high / e0, 4)),
                observed=round(observed, 3),
                expected=round(expected, 3),
                unit_sick_leave_rate=rates[0],
                rest_sick_leave_rate=rates[1],
                headcount=headcount,
                statistic=round(step.statistic, 4),
                threshold=unit.detector.threshold,
            )
            flag = Flag(
                flag_id=flag_id(Rule.UNIT_SICK_LEAVE_DRIFT.value, unit_id, f"week:{week}"),
                rule=Rule.UNIT_SICK_LEAVE_DRIFT,
                subject_kind="unit",
                subject_id=unit_id,
                unit_id=unit_id,
                raised_at=day_start(last + 1, self.config.timezone),
                evidence=evidence,
            )
        elif step.in_control:
            unit.active = False
            unit.theta += BASELINE_LEARNING_RATE * (observed / e0 - unit.theta)
        return flag

    def _finish_warmup(self, unit: UnitDrift) -> None:
        total_o = sum(o for o, _ in unit.warmup)
        total_e = sum(e for _, e in unit.warmup)
        # Shrunk towards the organisation's level (ratio 1): a small unit's few weeks of warm-up say
        # little, and an underestimated baseline would be a false alarm waiting to happen.
        prior = self.drift.baseline_prior_weight
        unit.theta = (total_o + prior) / (total_e + prior)
        # Pearson dispersion over the warm-up weeks; sick days cluster in people, so phi > 1 is usual.
        pearson = [(o - unit.theta * e) ** 2 / max(unit.theta * e, 1e-9) for o, e in unit.warmup]
        unit.phi = max(1.0, sum(pearson) / max(len(pearson) - 1, 1))
        unit.ready = True
        unit.warmup = []

    def _forget(self, state: OrgState) -> None:
        keep_from = state.evaluated_week - self.drift.refold_weeks + 1
        state.snapshots = {w: s for w, s in state.snapshots.items() if w >= keep_from}
        first_day = week_days(keep_from)[0]
        for unit_id, series in state.series.items():
            if series and min(series) < first_day:
                state.series[unit_id] = {d: v for d, v in series.items() if d >= first_day}
        state.recent_flags = {fid: f for fid, f in state.recent_flags.items()
                              if _week_of_flag(f) >= keep_from}


@dataclass(frozen=True, slots=True)
class RelativeLevel:
    """A unit's latest weekly level relative to the rest of the organisation (the common trend)."""

    unit_id: str
    week_start: int
    ratio: float
    low: float
    high: float
    baseline: float | None  # None during the warm-up
    headcount: int


def relative_levels(state: OrgState, min_group_size: int) -> list[RelativeLevel]:
    """Latest trend-adjusted ratios; none for a unit smaller than `min_group_size` (privacy)."""
    out = []
    for unit_id in sorted(state.units):
        unit = state.units[unit_id]
        if unit.last_ratio is None:
            continue
        week, ratio, low, high, headcount = unit.last_ratio
        if headcount < min_group_size:
            continue
        baseline = round(unit.theta, 4) if unit.ready else None
        out.append(RelativeLevel(unit_id, week_days(week)[0], round(ratio, 4), round(low, 4), round(high, 4),
                                 baseline, headcount))
    return out


def _week_of_flag(flag: Flag) -> int:
    evidence = flag.evidence
    assert isinstance(evidence, DriftEvidence)
    return week_of(evidence.window_start.toordinal())

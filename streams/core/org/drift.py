"""Unit sick-leave drift, adjusted for the trend common to the whole organisation.

Each complete week, for each unit u: O = its new sick-leave occasions (or sick days, by configuration),
E0 = its headcount-days x the same rate in the *rest* of the organisation in the same week (so a flu
season that lifts every unit lifts E0 too).
A warm-up learns the unit's usual ratio theta = sum O / sum E0 and the overdispersion phi; after it, the
observed O and expected theta E0 go to a drift detector (a negative-binomial CUSUM by default, with the
dispersion pooled over the unit's peers and a flag gated on its own interval, see unit_step.py; the
Poisson CUSUM and river's Page-Hinkley on the standardised residual as alternatives). Late data that
changes a week already evaluated makes the weeks from there be evaluated again from a snapshot, so the
final flags depend only on the data, not on its order.
"""

from __future__ import annotations

from streams.core.config import MonitorConfig
from streams.core.org.detectors import make_detector
from streams.core.org.state import OrgState, UnitDrift
from streams.core.org.unit_step import UnitDriftStep, pooled_dispersion
from streams.core.timebase import week_days, week_of
from streams.core.unit.tracker import DaySummary
from streams.models.flags import DriftEvidence, Flag, FlagStatus, WithdrawnBecause


class OrgDrift:
    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.drift = config.drift
        make_detector(self.drift.detector, self.drift.shift, self.drift.threshold)  # an unknown kind fails here
        self.step_unit = UnitDriftStep(config)

    def apply(self, state: OrgState, summaries: list[DaySummary]) -> list[Flag]:
        """Take unit-day summaries; return new, revised and withdrawn drift flags."""
        if not summaries:
            return []
        dirty, restart = self._take(state, summaries)
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
        changes += [f.model_copy(update={"status": FlagStatus.WITHDRAWN,
                                         "withdrawn_because": WithdrawnBecause.LATE_DATA})
                    for fid, f in before.items() if fid not in after]
        return changes

    def _take(self, state: OrgState, summaries: list[DaySummary]) -> tuple[int | None, bool]:
        """Store the summaries in the series; the earliest week they change, and whether evaluation must
        start over (data for a week before the first one evaluated)."""
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
        return dirty, restart

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
        # The peers' dispersion as it stood before this week (the same whatever order units are taken in).
        peers = pooled_dispersion([u for u in state.units.values() if u.ready])
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
            flag = self.step_unit(unit, unit_id, week, observed, e0, rates, headcount, peers)
            if flag is not None:
                flags.append(flag)
        return flags

    def _forget(self, state: OrgState) -> None:
        keep_from = state.evaluated_week - self.drift.refold_weeks + 1
        state.snapshots = {w: s for w, s in state.snapshots.items() if w >= keep_from}
        first_day = week_days(keep_from)[0]
        for unit_id, series in state.series.items():
            if series and min(series) < first_day:
                state.series[unit_id] = {d: v for d, v in series.items() if d >= first_day}
        state.recent_flags = {fid: f for fid, f in state.recent_flags.items()
                              if _week_of_flag(f) >= keep_from}


def _week_of_flag(flag: Flag) -> int:
    evidence = flag.evidence
    assert isinstance(evidence, DriftEvidence)
    return week_of(evidence.window_end.toordinal())  # the week it was raised (its window may start before)

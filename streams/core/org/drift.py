"""Unit outcomes against the trend common to the whole organisation: drift and level flags.

Each complete week, for each monitored outcome (`outcomes.py`: sick leave of a workplace; ED visits,
readmissions and unplanned inpatient days of a care unit) and each unit u: O = its count, E0 = its
exposure x the same rate in the *rest* of the organisation in the same week (so a flu season that lifts
every unit lifts E0 too). A level flag compares O with E0 over a quarter (`level_step.py`); drift:
A warm-up learns the unit's usual ratio theta = sum O / sum E0 and the overdispersion phi; after it, the
observed O and expected theta E0 go to a drift detector (a negative-binomial CUSUM by default, with the
dispersion pooled over the unit's peers and a flag gated on its own interval, see unit_step.py; the
Poisson CUSUM and river's Page-Hinkley on the standardised residual as alternatives). Late data that
changes a week already evaluated makes the weeks from there be evaluated again from a snapshot, so the
final flags depend only on the data, not on its order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from streams.core.config import MonitorConfig
from streams.core.org.coverage import is_covered
from streams.core.org.detectors import check_kind, make_detector
from streams.core.org.evidence import UnitWeek
from streams.core.org.level_step import UnitLevelStep, funnel_dispersion
from streams.core.org.outcomes import OutcomeSpec, WeekTotals, outcome_specs
from streams.core.org.parts import FLAGS, monitors_part, series_part, snapshot_part, unit_part
from streams.core.org.state import BEDS_CHANGE, CARE_CHANGE, OrgState, UnitDrift
from streams.core.org.unit_step import UnitDriftStep, pooled_dispersion
from streams.core.org.weeks import CarePopulations, amend_running, week_totals
from streams.core.timebase import week_days, week_of
from streams.core.unit.summary import DaySummary
from streams.models.flags import DriftEvidence, Flag, FlagStatus, WithdrawnBecause
from streams.models.vocab import UnitOutcome

# Weeks between snapshots of the units' states: a re-evaluation resumes from the latest one before the
# week that changed. Every week's snapshot made the organisation's state (one table record) outgrow
# Kafka's 1 MB message size with a dozen units and their level windows.
SNAPSHOT_EVERY_WEEKS = 8

HR_OUTCOMES = frozenset({UnitOutcome.SICK_LEAVE})
CARE_OUTCOMES = frozenset(UnitOutcome) - HR_OUTCOMES


class OrgDrift:
    """The organisation's workplaces and its care units, each group its own peers, each evaluated as far
    as its own slowest unit has come (a quiet care unit does not hold back the workplaces' flags)."""

    def __init__(self, config: MonitorConfig) -> None:
        self.workplaces = PeerGroupDrift(config, HR_OUTCOMES)
        self.care_units = PeerGroupDrift(config, CARE_OUTCOMES)

    def apply(self, state: OrgState, summaries: list[DaySummary]) -> list[Flag]:
        """Take unit-day summaries; return new, revised and withdrawn unit flags."""
        # A day goes to a group when it has figures of that group, or the group holds the day already:
        # a day whose figures became zero (a person's leaving and returning the same day, sent apart)
        # must replace what was sent before, or the result would depend on the order of arrival. "Holds"
        # counts the summaries before it in this call too: a day first sent with figures and then as zero,
        # both in one batch, is held as zero, as it is when the two come in batches of their own (the
        # chaos backfill's extra drift flag of 2026-12-07: a batch taken again after a crash kept the
        # figures the zero was to replace).
        hr = _of_group(summaries, state.series, DaySummary.has_workplace_figures)
        care_series = state.care.series if state.care is not None else {}
        care = [replace(s, sick_days=0.0, occasions=0.0, headcount=0)
                for s in _of_group(summaries, care_series, DaySummary.has_care_figures)]
        flags = self.workplaces.apply(state, hr)
        if care and self.care_units.specs:
            if state.care is None:
                state.care = OrgState()
            flags += self.care_units.apply(state.care, care)
        return flags


def _of_group(summaries: list[DaySummary], series: dict[str, dict[int, Any]],
              has_figures: Callable[[DaySummary], bool]) -> list[DaySummary]:
    """The summaries a group takes, in order: those with its figures, and those of days it holds or that a
    summary before them in the list brought it (the same as taking them one at a time)."""
    out: list[DaySummary] = []
    brought: set[tuple[str, int]] = set()
    for s in summaries:
        if has_figures(s):
            brought.add((s.unit_id, s.day))
            out.append(s)
        elif s.day in series.get(s.unit_id, ()) or (s.unit_id, s.day) in brought:
            out.append(s)
    return out


class PeerGroupDrift:
    def __init__(self, config: MonitorConfig, outcomes: frozenset[UnitOutcome]) -> None:
        self.config = config
        self.drift = config.drift
        check_kind(self.drift.detector)
        self.step_unit = UnitDriftStep(config)
        self.step_level = UnitLevelStep(config)
        self.specs = [spec for spec in outcome_specs(config) if spec.outcome in outcomes]
        self.min_group = self.drift.min_headcount or config.min_group_size
        self.max_lag = max((spec.lag_weeks() for spec in self.specs), default=0)
        self.thresholds = {o: self.drift.outcome_thresholds.get(o, self.drift.threshold) for o in outcomes}

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
        # What an evaluation may change, for the parts written after it (parts.py): every outcome's monitors,
        # the snapshots made and those dropped, the recent flags.
        snapshots_before, outcomes_before = list(state.snapshots), list(state.monitors)
        if state.restart or state.evaluated_week < 0:
            start = week_of(state.earliest_held())
            if start > last_complete:
                return []
            state.monitors, state.snapshots, state.evaluated_week = {}, {}, -1
            state.origin_week = start
        else:
            start = min(state.dirty_week, state.evaluated_week + 1)
            if start > last_complete:
                return []
            if start <= state.evaluated_week:
                start = self._restore(state, start)
        state.dirty_week, state.restart = -1, False

        # Weeks start..last_complete are evaluated (again) now. Flags of later weeks, evaluated before the
        # slowest unit fell back (a unit heard from for the first time), are compared when those weeks are
        # evaluated again; their snapshots are stale and go.
        def redone(f: Flag) -> bool:
            return start <= self._evaluated_in(f) <= last_complete

        before = {fid: f for fid, f in previous.items() if redone(f)}
        state.recent_flags = {fid: f for fid, f in previous.items() if not redone(f)}
        state.snapshots = {w: snap for w, snap in state.snapshots.items() if w < start}
        after: dict[str, Flag] = {}
        populations = CarePopulations(state, week_days(start - self.max_lag)[0], week_days(last_complete)[-1])
        for week in range(start, last_complete + 1):
            if (week - state.origin_week) % SNAPSHOT_EVERY_WEEKS == 0:
                state.snapshots[week] = {o: {u: s.to_dict() for u, s in units.items()}
                                         for o, units in state.monitors.items()}
                state.touch(snapshot_part(week))
            for flag in self._evaluate_week(state, week, populations):
                after[flag.flag_id] = flag
        state.evaluated_week = last_complete
        state.recent_flags.update(after)
        self._forget(state)
        for outcome in (*outcomes_before, *state.monitors):
            state.touch(monitors_part(outcome))
        for week in snapshots_before:
            if week not in state.snapshots:
                state.touch(snapshot_part(week))
        state.touch(FLAGS)

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
            series = state.series.setdefault(s.unit_id, {})
            figures = s.figures()
            if state.running:
                amend_running(state, s.unit_id, s.day, series.get(s.day), figures)
            series[s.day] = figures
            state.hold(s.day)
            if state.changed is not None:  # written as parts (a replay's state is not)
                state.touch(series_part(s.unit_id, s.day))
                state.touch(unit_part(s.unit_id))
            if s.day < state.forgotten_before:
                state.forgotten_before = -1
            dirty = week if dirty is None else min(dirty, week)
            state.clock_day = max(state.clock_day, s.day)
            state.reached(s.unit_id, s.day)
            state.first_days[s.unit_id] = min(state.first_days.get(s.unit_id, s.day), s.day)
        return dirty, restart

    def _restore(self, state: OrgState, week: int) -> int:
        """Back to the latest snapshot at or before `week`; the week evaluation resumes from. The weeks
        between it and `week` are evaluated again to the same states and flags (nothing in them changed)."""
        at = max(w for w in state.snapshots if w <= week)
        snap = state.snapshots[at]
        state.monitors = {o: {u: UnitDrift.from_dict(s) for u, s in units.items()} for o, units in snap.items()}
        return at

    def _evaluate_week(self, state: OrgState, week: int, populations: CarePopulations) -> list[Flag]:
        """Every outcome, for its own week: one whose follow-up takes weeks (readmissions) is evaluated
        that many weeks after the week it is about, the others for `week` itself."""
        flags = []
        totals_of: dict[int, dict[str, WeekTotals]] = {}
        for spec in self.specs:
            about = week - spec.lag_weeks()
            if about < state.origin_week:
                continue
            if about not in totals_of:
                totals_of[about] = week_totals(state, about, populations)
            flags += self._evaluate_outcome(state, spec, about, totals_of[about])
        return flags

    def _evaluate_outcome(self, state: OrgState, spec: OutcomeSpec, week: int,
                          totals: dict[str, WeekTotals]) -> list[Flag]:
        units = state.units(spec.outcome)
        # Only the units whose week is complete (their look-back covered) are tested, and only they are
        # each other's peers: a care population still filling is no one's rate.
        totals = {u: t for u, t in totals.items()
                  if is_covered(state, spec, u, week, self.drift.history_start)}
        all_count = sum(getattr(t, spec.numerator) for t in totals.values())
        all_exposure = sum(getattr(t, spec.exposure) for t in totals.values())
        all_sick = sum(t.sick_days for t in totals.values())
        all_hc = sum(t.headcount_days for t in totals.values())
        # The peers' dispersion as it stood before this week (the same whatever order units are taken in).
        peers = pooled_dispersion([u for u in units.values() if u.ready])
        flags = []
        tested: list[tuple[UnitDrift, UnitWeek, tuple[float, float] | None]] = []
        for unit_id in sorted(totals):
            t = totals[unit_id]
            observed, exposure = getattr(t, spec.numerator), getattr(t, spec.exposure)
            group = getattr(t, spec.group)
            rest_count, rest_exposure = all_count - observed, all_exposure - exposure
            if exposure <= 0 or rest_exposure <= 0 or rest_count <= 0 or group < self.min_group:
                continue
            sick_rates = None
            if spec.outcome == UnitOutcome.SICK_LEAVE:
                sick_rates = (round(t.sick_days / exposure, 5),
                              round((all_sick - t.sick_days) / (all_hc - exposure), 5))
            uw = UnitWeek(spec, unit_id, week, observed, exposure * rest_count / rest_exposure, exposure, group,
                          sick_rates)
            unit = units.get(unit_id)
            if unit is None:
                unit = units[unit_id] = UnitDrift(make_detector(self.drift.detector, self.drift.shift,
                                                                self.thresholds.get(spec.outcome)))
            flag = self.step_unit(unit, uw, peers)
            if flag is not None:
                flags.append(flag)
            tested.append((unit, uw, self.step_level.observe(unit, uw)))
        # Level: every unit's quarter first, then each decided against the units' funnel of them.
        funnel = funnel_dispersion([q for _, _, q in tested if q is not None])
        for unit, uw, quarter in tested:
            flag = self.step_level(unit, uw, quarter, funnel)
            if flag is not None:
                flags.append(flag)
        return flags

    def _forget(self, state: OrgState) -> None:
        keep_from = state.evaluated_week - self.drift.refold_weeks + 1
        state.snapshots = {w: s for w, s in state.snapshots.items() if w >= keep_from}
        # A week evaluated late (readmissions) reads its own week's days.
        first_day = week_days(keep_from - self.max_lag)[0]
        if first_day != state.forgotten_before:  # else forgotten up to it, and nothing older came since
            _forget_days(state, first_day, state.forgotten_before)
            state.forgotten_before = first_day
        state.recent_flags = {fid: f for fid, f in state.recent_flags.items()
                              if self._evaluated_in(f) >= keep_from}

    def _evaluated_in(self, flag: Flag) -> int:
        """The week in whose evaluation the flag was raised: the week it is for, plus its outcome's lag."""
        evidence = flag.evidence
        assert isinstance(evidence, DriftEvidence)
        lag = next((spec.lag_weeks() for spec in self.specs if spec.outcome == evidence.outcome), 0)
        return week_of(evidence.window_end.toordinal()) + lag


def _forget_days(state: OrgState, first_day: int, held_from: int) -> None:
    """The series' days before `first_day` go; a care unit's population and bed changes on them go to its
    bases. `held_from`: the day before which they were forgotten last, nothing older having come since
    (-1: not known), so that a week's advance looks up its week's days instead of passing over every day
    kept."""
    for unit_id, series in state.series.items():
        if held_from >= 0 and first_day - held_from <= len(series):
            gone_days = [d for d in range(held_from, first_day) if d in series]
        else:
            gone_days = [d for d in series if d < first_day]
        if not gone_days:
            continue
        for index, bases in ((CARE_CHANGE, state.care_base), (BEDS_CHANGE, state.beds_base)):
            gone = sum(series[d][index] for d in gone_days)  # counts: in any order, the same sum
            if gone or unit_id in bases:
                bases[unit_id] = bases.get(unit_id, 0.0) + gone
            # A running sum up to a day now forgotten no longer holds; one up to a later day does.
            known = state.running.get((index, unit_id))
            if known is not None and known[0] < first_day - 1:
                del state.running[(index, unit_id)]
        state.held_from = None  # the earliest day held may be among those gone
        for d in gone_days:
            del series[d]
            state.touch(series_part(unit_id, d))
        state.touch(unit_part(unit_id))

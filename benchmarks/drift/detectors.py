"""The detectors compared on the simulated series: the organisation stage's own unit flags under a given
drift configuration (the drift candidates, the level tests), and river's ADWIN and PageHinkley on the
standardised weekly residual, the baselines a user might pick instead (drift detectors only: no level
test)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from benchmarks.drift.workplaces import weekly
from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.core.timebase import week_days
from streams.core.unit.summary import DaySummary
from streams.models.flags import DriftEvidence
from streams.models.vocab import Rule, UnitOutcome

Alarms = dict[str, list[int]]  # unit -> days on which a flag (an alarm) was raised


def flags_of(rows: list[DaySummary], drift: DriftConfig) -> list[tuple[str, str, int]]:
    """(unit, rule, day after the end of the week the flag is for) of every unit flag the organisation
    stage raises on the series. A tail a week after the last day lets the last weeks be evaluated."""
    stage, state = OrgDrift(MonitorConfig(drift=drift)), OrgState()
    last = max(r.day for r in rows)
    headcount: dict[str, int] = {}
    for r in rows:
        headcount[r.unit_id] = r.headcount or headcount.get(r.unit_id, 0)
    tail = []
    for unit, hc in sorted(headcount.items()):
        if hc:
            tail.append(DaySummary(unit, last + 8, 0.0, 0.0, hc))
        else:  # a care unit: someone enters its care and leaves the day after (weeks never evaluated)
            tail += [DaySummary(unit, last + 8, 0.0, 0.0, 0, care_change=1.0),
                     DaySummary(unit, last + 9, 0.0, 0.0, 0, care_change=-1.0)]
    out = []
    for flag in stage.apply(state, [*rows, *tail]):
        assert isinstance(flag.evidence, DriftEvidence)
        out.append((flag.subject_id, flag.rule.value, flag.evidence.window_end.toordinal() + 1))
    return out


def ours(drift: DriftConfig) -> Callable[[list[DaySummary]], Alarms]:
    """Our drift flags (`unit_sick_leave_drift`) only: level flags are counted apart (level_eval)."""
    def run(rows: list[DaySummary]) -> Alarms:
        out: Alarms = defaultdict(list)
        for unit, rule, day in flags_of(rows, drift):
            if rule == Rule.UNIT_SICK_LEAVE_DRIFT:
                out[unit].append(day)
        return out
    return run


def river_baseline(kind: str, warmup_weeks: int = 12) -> Callable[[list[DaySummary]], Alarms]:
    """river's detector on the standardised weekly residual against the warm-up's ratio (ADWIN: an
    alarm only when the level after the change is above the warm-up's)."""
    def run(rows: list[DaySummary]) -> Alarms:
        return river_on(kind, weekly(rows), warmup_weeks)
    return run


def river_on(kind: str, by_unit: dict[str, list[tuple[int, float, float]]], warmup_weeks: int = 12,
             lag_days: int = 0) -> Alarms:
    """river's detector on each unit's weeks (week, observed, expected at the rest's rate); an alarm on
    a week counts from the end of that week plus `lag_days` (a follow-up to wait for)."""
    from river import drift as river_drift

    out: Alarms = defaultdict(list)
    for unit, weeks in by_unit.items():
        head = weeks[:warmup_weeks]
        theta = (sum(o for _, o, _ in head) + 10) / (sum(e for _, _, e in head) + 10)
        detector = river_drift.ADWIN() if kind == "adwin" else river_drift.PageHinkley(mode="up")
        for week, o, e0 in weeks[warmup_weeks:]:
            z = (o - theta * e0) / math.sqrt(max(theta * e0, 1e-9))
            detector.update(z)
            if detector.drift_detected and (kind != "adwin" or getattr(detector, "estimation", 0) > 0):
                out[unit].append(week_days(week)[-1] + 1 + lag_days)
    return out


def candidates() -> dict[str, Callable[[list[DaySummary]], Alarms]]:
    return {
        "nb_cusum (default: shift 1.75, h 5.5)": ours(DriftConfig()),
        "nb_cusum h=5": ours(DriftConfig(threshold=5.0)),
        "nb_cusum h=6": ours(DriftConfig(threshold=6.0)),
        "nb_cusum, warm-up dispersion, no gate": ours(DriftConfig(calibrated=False)),
        "cusum (Poisson, before issue 14)": ours(DriftConfig(detector="cusum")),
        "cusum + pooled dispersion + gate": ours(DriftConfig(detector="cusum", calibrated=True)),
        "river ADWIN": river_baseline("adwin"),
        "river PageHinkley": river_baseline("page_hinkley"),
    }


def level_configs() -> dict[str, DriftConfig]:
    """The default, and what a laxer or longer level test would give (measured, not adopted)."""
    return {
        "default (interval above 1.5x over 13 weeks; inpatient days 1.75x)": DriftConfig(),
        "level_min_ratio 1.25 for all": DriftConfig(level_min_ratio=1.25, outcome_level_min_ratios={}),
        "level_min_ratio 1.25 for all, level_weeks 26": DriftConfig(level_min_ratio=1.25, level_weeks=26,
                                                                    outcome_level_min_ratios={}),
        "level_weeks 26": DriftConfig(level_weeks=26),
        "inpatient days at 1.5x too (before)": DriftConfig(outcome_level_min_ratios={}),
        "inpatient days' level_min_ratio 2.0": DriftConfig(
            outcome_level_min_ratios={UnitOutcome.INPATIENT_DAYS: 2.0}),
    }

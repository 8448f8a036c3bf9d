"""Unit drift under ordinary clustering (issue 14): employees' bad spells make a unit's weekly counts vary
more than Poisson; the calibrated detector (negative-binomial CUSUM, dispersion pooled with the peers,
flags gated on their own interval) raises no flag on such a history without change, still finds a 2.5x
step with the step's weeks as its evidence, and its state survives JSON and older states."""

from __future__ import annotations

import json
import math
import random

import pytest

from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.detectors import Cusum, NbCusum, detector_from_dict, make_detector
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState, UnitDrift
from streams.core.timebase import week_days, week_of
from streams.core.unit.summary import DaySummary
from streams.models import DriftEvidence, Flag
from streams.models.vocab import Rule, UnitOutcome
from tests.helpers import poisson

UNITS = [f"u{i}" for i in range(10)]
STAFF = 40
BASE = 0.011  # occasions per employee and day
FIRST_WEEK = 105_000
WEEKS = 104
SPELL = 4.0  # an employee in a bad spell has 4x their usual rate


def history(seed: int, step: dict[str, tuple[int, float]] | None = None) -> list[DaySummary]:
    """Two years of units of 40 whose employees have bad spells (9-21 weeks at 4x their usual rate,
    starting 0.3 times a year), a common downward trend and a flu season; step[unit] = (week, factor)."""
    rng = random.Random(seed)
    rows = []
    spell_left = {(u, p): 0 for u in UNITS for p in range(STAFF)}
    for w in range(WEEKS):
        common = math.exp(-0.1 * w / 52) * (1 + 1.2 * math.exp(-0.5 * ((w % 52 - 6) / 2.5) ** 2))
        for u in UNITS:
            onset, factor = (step or {}).get(u, (WEEKS, 1.0))
            rate = 0.0
            for p in range(STAFF):
                if spell_left[(u, p)] == 0 and rng.random() < 0.3 / 52:
                    spell_left[(u, p)] = rng.randint(9, 21)
                spell = spell_left[(u, p)] > 0
                spell_left[(u, p)] = max(0, spell_left[(u, p)] - 1)
                rate += BASE * (SPELL if spell else 1.0)
            rate *= common * (factor if w >= onset else 1.0)
            for day in week_days(FIRST_WEEK + w):
                occ = poisson(rng, rate)
                rows.append(DaySummary(u, day, float(occ), float(occ), STAFF))
    return rows


def run(rows: list[DaySummary], config: MonitorConfig | None = None) -> tuple[list[Flag], OrgState]:
    drift, state = OrgDrift(config or MonitorConfig()), OrgState()
    flags: list[Flag] = []
    for w in range(WEEKS):
        flags += drift.apply(state, [r for r in rows if week_of(r.day) == FIRST_WEEK + w])
    flags += drift.apply(state, [DaySummary(UNITS[0], week_days(FIRST_WEEK + WEEKS)[0], 0, 0, STAFF)])
    return flags, state


def test_the_default_detector_is_the_calibrated_negative_binomial_cusum() -> None:
    assert DriftConfig().detector == "nb_cusum"
    assert isinstance(make_detector("nb_cusum"), NbCusum)
    assert isinstance(make_detector("cusum"), Cusum)  # the Poisson CUSUM stays available by configuration


def test_an_overdispersed_history_without_change_raises_no_unit_flag() -> None:
    rows = history(seed=7)
    flags, state = run(rows)
    assert flags == []
    # the clustering was seen and allowed for
    assert max(u.phi for u in state.units(UnitOutcome.SICK_LEAVE).values()) > 1.5
    # where the Poisson CUSUM of before issue 14 raises false alarms on the very same history
    poisson_flags, _ = run(rows, MonitorConfig(drift=DriftConfig(detector="cusum")))
    assert len(poisson_flags) >= 3


def test_a_step_of_2_5x_is_detected_with_the_steps_weeks_as_its_evidence() -> None:
    onset = 60
    flags, _ = run(history(seed=7, step={"u4": (onset, 2.5)}))
    flags = [f for f in flags if f.rule == Rule.UNIT_SICK_LEAVE_DRIFT]  # (a level flag may follow)
    assert [f.subject_id for f in flags] == ["u4"]
    ev = flags[0].evidence
    assert isinstance(ev, DriftEvidence) and ev.detector == "nb_cusum"
    first = week_days(FIRST_WEEK + onset)[0]
    # The window is the run of weeks the detector accumulated over: the step's weeks up to the flag, and
    # at most a few weeks before it in which the statistic had already left zero by chance.
    start, end = ev.window_start.toordinal(), ev.window_end.toordinal()
    assert first - 6 * 7 <= start <= first and first + 13 <= end <= first + 6 * 7
    assert ev.current_interval.low > ev.baseline_ratio  # its own interval excludes the baseline
    assert ev.observed > ev.expected and ev.statistic > ev.threshold


@pytest.mark.parametrize("seed", range(4))
def test_a_flag_is_never_raised_while_its_own_interval_includes_the_baseline(seed: int) -> None:
    flags, _ = run(history(seed, step={"u1": (40, 1.5), "u2": (50, 2.0), "u3": (70, 2.5)}))
    assert flags
    for f in flags:
        assert isinstance(f.evidence, DriftEvidence)
        assert f.evidence.current_interval.low > f.evidence.baseline_ratio


def test_nb_cusum_with_no_overdispersion_is_the_poisson_cusum() -> None:
    nb, poisson_cusum = NbCusum(shift=1.75, threshold=5.0), Cusum(shift=1.75, threshold=5.0)
    rng = random.Random(1)
    for _ in range(50):
        o = float(poisson(rng, 3.0))
        assert nb.update(o, 2.5, 1.0).statistic == pytest.approx(poisson_cusum.update(o, 2.5, 1.0).statistic)
    # and with overdispersion one very high week weighs less than a Poisson model says
    assert NbCusum().llr(20, 3.0, 2.0) < NbCusum().llr(20, 3.0, 1.0)


def test_the_state_round_trips_through_json_mid_history_and_carries_on_to_the_same_flags() -> None:
    rows = history(seed=5, step={"u4": (60, 2.5)})
    expected, _ = run(rows)
    drift, state = OrgDrift(MonitorConfig()), OrgState()
    flags: list[Flag] = []
    for w in range(WEEKS):
        flags += drift.apply(state, [r for r in rows if week_of(r.day) == FIRST_WEEK + w])
        if w in (20, 61):
            state = OrgState.from_dict(json.loads(json.dumps(state.to_dict(), allow_nan=False)))
    flags += drift.apply(state, [DaySummary(UNITS[0], week_days(FIRST_WEEK + WEEKS)[0], 0, 0, STAFF)])
    assert flags == expected and expected
    unit = next(iter(state.units(UnitOutcome.SICK_LEAVE).values()))
    assert unit.disp_n > 0 and UnitDrift.from_dict(json.loads(json.dumps(unit.to_dict()))).to_dict() == unit.to_dict()
    d = NbCusum(threshold=4.0)
    d.update(9.0, 3.0, 1.4)
    assert detector_from_dict(json.loads(json.dumps(d.to_dict()))).to_dict() == d.to_dict()


def test_a_unit_state_written_before_issue_14_loads_and_carries_on() -> None:
    old = {"detector": {"kind": "cusum", "shift": 1.75, "threshold": 5.0, "s": 1.2},
           "warmup": [], "theta": 0.9, "phi": 1.3, "ready": True, "active": False,
           "last_ratio": [FIRST_WEEK, 1.1, 0.5, 2.0, 40]}
    unit = UnitDrift.from_dict(old)
    assert (unit.disp_n, unit.block, unit.run) == (0.0, (0.0, 0.0, 0), [])
    # Written as it was until it learns something new, its detector now with its state version.
    assert unit.to_dict() == {**old, "detector": {**old["detector"], "version": 1}}
    # A whole organisation's state as the Poisson CUSUM wrote it before: it loads and goes on to the
    # same flags as a run never interrupted.
    config = MonitorConfig(drift=DriftConfig(detector="cusum"))
    rows = history(seed=5, step={"u4": (60, 2.5)})
    expected, _ = run(rows, config)
    drift, state = OrgDrift(config), OrgState()
    flags: list[Flag] = []
    for w in range(WEEKS):
        flags += drift.apply(state, [r for r in rows if week_of(r.day) == FIRST_WEEK + w])
        if w == 40:
            doc = json.loads(json.dumps(state.to_dict()))
            assert not any("disp_n" in u for u in doc["monitors"]["sick_leave"].values())
            state = OrgState.from_dict(doc)
    flags += drift.apply(state, [DaySummary(UNITS[0], week_days(FIRST_WEEK + WEEKS)[0], 0, 0, STAFF)])
    assert flags == expected and expected

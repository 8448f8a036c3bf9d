"""The cold start: monitoring begins with a history in which care populations fill from zero and persons,
stays and absences are seen for the first time; no unit flag comes of that, a real rise is still found,
and the boards show the outcomes whose look-back is not covered as building up."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from prometheus_client import generate_latest

from benchmarks.drift.detectors import flags_of
from benchmarks.drift.field_care import care_units
from benchmarks.drift.field_world import draw_world, workplaces
from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.coverage import Monitoring, unit_monitoring
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.observe.metrics import Metrics


def _care_history(seed: int) -> list:  # type: ignore[type-arg]
    rng = np.random.default_rng([seed, 11])
    world = draw_world(rng, (548, 800))
    k = int(rng.integers(5, 11))
    sizes = [int(rng.integers(600, 1301))] + [int(rng.integers(150, 1301)) for _ in range(k - 1)]
    return care_units(rng, world, sizes, None)


def test_a_cold_start_care_history_with_no_change_raises_no_unit_flag_of_any_kind() -> None:
    rows = _care_history(2)  # 20 months; 7 care units of 168-1,177 persons, nothing changes
    assert flags_of(rows, DriftConfig()) == []
    # Had the care populations been taken as complete from the first day, with the 12-week warm-up of
    # before, the filling population would have been read as a rise.
    assert flags_of(rows, DriftConfig(history_start=dt.date(2000, 1, 1), outcome_warmup_weeks={})) != []


def test_a_cold_start_workplace_history_with_no_change_raises_no_unit_flag_of_any_kind() -> None:
    rng = np.random.default_rng([1, 7])  # 20 months; 13 workplaces of 31-171 staff, nothing changes
    world = draw_world(rng, (548, 730))
    k = int(rng.integers(8, 15))
    sizes = [int(rng.integers(30, 56))] + [int(rng.integers(28, 181)) for _ in range(k - 1)]
    assert (world.days, k, min(sizes), max(sizes)) == (613, 13, 31, 171)
    assert flags_of(workplaces(rng, world, sizes, None), DriftConfig()) == []


@pytest.mark.parametrize("doubling", [(2.0, 1.0), (1.0, 2.0)], ids=["twice the admissions", "stays twice as long"])
def test_a_doubling_of_inpatient_days_in_the_first_monitored_year_is_flagged_as_its_stays_go_on(
        doubling: tuple[float, float]) -> None:
    """The inpatient days of a unit of 1,241 persons double 5 weeks after its warm-up (the year of look-back
    and 26 weeks), by twice the unplanned admissions of the persons in its care or by stays twice as long:
    its bed-days count from each admission, and the drift flag comes within weeks, no other unit flagged
    for inpatient days."""
    rng = np.random.default_rng([18, 11])
    world = draw_world(rng, (548, 800))
    onset = 365 + 7 * 27 + int(rng.integers(0, 26 * 7))
    world = dataclasses.replace(world, days=max(world.days, onset + 182 + 14))
    k = int(rng.integers(5, 11))
    sizes = [int(rng.integers(600, 1301))] + [int(rng.integers(150, 1301)) for _ in range(k - 1)]
    assert sizes[0] == 1241
    flags = flags_of(care_units(rng, world, sizes, (0, onset, "inpatient_days"), doubling), DriftConfig())
    found = [d - world.start - onset for u, rule, d in flags
             if u == "care-unit-00" and rule == "unit_inpatient_days_drift" and d >= world.start + onset]
    assert found and min(found) <= 45
    assert not [f for f in flags if f[1] == "unit_inpatient_days_drift" and f[0] != "care-unit-00"]


def test_a_step_when_the_winter_excess_ends_is_flagged() -> None:
    """A 2x step in a workplace of 31 staff beginning the week the organisation's winter excess ends,
    five months into the history (the warm-up learned in flu weeks), the peers falling as it rises."""
    rng = np.random.default_rng([1, 7])
    world = draw_world(rng, (548, 730))
    onset = next(e for e in world.winter_ends() if 98 <= e <= world.days - 182)
    k = int(rng.integers(8, 15))
    sizes = [int(rng.integers(30, 56))] + [int(rng.integers(28, 181)) for _ in range(k - 1)]
    assert sizes[0] == 31 and onset == 157
    rows = workplaces(rng, world, sizes, (0, onset, 3.2))
    flags = flags_of(rows, DriftConfig())
    found = [d - world.start - onset for u, rule, d in flags if u == "hr-unit-00" and rule == "unit_sick_leave_drift"]
    assert found and 0 <= min(found) <= 45
    assert not [f for f in flags if f[0] != "hr-unit-00"]


def test_building_up_is_visible_in_the_metrics_until_the_look_back_is_covered() -> None:
    rows = _care_history(6)
    start = min(r.day for r in rows)
    config = MonitorConfig()
    org, stage = OrgState(), OrgDrift(config)
    stage.apply(org, [r for r in rows if r.day < start + 200])
    states = {(m.unit_id, m.outcome.value): m for m in unit_monitoring(org, config)}
    assert states[("care-unit-00", "ed_visits")].state == Monitoring.BUILDING_UP
    assert states[("care-unit-00", "readmissions")].state in (Monitoring.WARMING_UP, Monitoring.MONITORED)
    assert states[("care-unit-00", "ed_visits")].complete_from >= dt.date.fromordinal(start + 365)
    metrics = Metrics()
    metrics.set_monitoring(list(states.values()))
    text = generate_latest(metrics.registry).decode()
    assert ('outcome_unit_monitoring_state{outcome="inpatient_days",state="building_up",unit="care-unit-00"} 1.0'
            in text)
    stage.apply(org, [r for r in rows if r.day >= start + 200])
    after = {(m.unit_id, m.outcome.value): m.state for m in unit_monitoring(org, config)}
    assert after[("care-unit-00", "ed_visits")] == Monitoring.MONITORED

"""Drift does not depend on how far one unit's data runs ahead of another's (partitions of a backfill
run at different speeds): the same unit-day summaries, with whole units delayed by weeks or months,
give the flags of the in-order run."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.core.pseudonym import Pseudonymiser
from streams.core.unit.summary import DaySummary
from streams.simulators.simulation import Scenario, generate


@pytest.fixture(scope="module")
def summaries_in_order() -> list[list[DaySummary]]:
    monitor = Monitor(MonitorConfig(), Pseudonymiser(b"unit-test-pseudonym-key"))
    captured: list[list[DaySummary]] = []
    apply = monitor.org_drift.apply

    def capture(state: OrgState, batch: list[DaySummary]) -> list:  # type: ignore[type-arg]
        captured.append(list(batch))
        return apply(state, batch)

    monitor.org_drift.apply = capture  # type: ignore[method-assign]
    now = dt.datetime.now(dt.UTC)
    scenario = Scenario(seed=5, days=330, units=6, care_persons=0, drift_unit=1, drift_onset_day=170,
                        drift_factor=3.0)
    for _, line in generate(scenario):
        monitor.process(line, now)
    return captured


def final_flags(batches: list[list[DaySummary]]) -> dict[str, dict[str, object]]:
    drift, state, last = OrgDrift(MonitorConfig()), OrgState(), {}
    for batch in batches:
        for flag in drift.apply(state, batch):
            last[flag.flag_id] = flag.model_dump(mode="json")
    assert state.late_for_drift == 0
    return {k: v for k, v in last.items() if v["status"] == "raised"}


@pytest.mark.parametrize("seed", range(4))
def test_units_running_weeks_apart_give_the_flags_of_the_in_order_run(
    summaries_in_order: list[list[DaySummary]], seed: int
) -> None:
    expected = final_flags(summaries_in_order)
    assert expected  # the drifting unit is found
    flat = [s for batch in summaries_in_order for s in batch]
    rng = random.Random(seed)
    delay = {u: rng.randint(0, len(flat) // 3) for u in sorted({s.unit_id for s in flat})}
    skewed = [s for _, _, s in sorted((i + delay[s.unit_id], i, s) for i, s in enumerate(flat))]
    size = rng.choice([7, 50, 300])
    assert final_flags([skewed[i:i + size] for i in range(0, len(skewed), size)]) == expected

"""The organisation stage carries its care units' populations and beds from one evaluation to the next
(and forgets its oldest days a week at a time) instead of summing every day it keeps each time: what it
concludes must be what a worker that has just restarted concludes, for whom nothing was carried over, with
days arriving late and changed, and the history longer than the weeks it keeps."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.state import OrgState
from streams.core.org.weeks import CarePopulations
from streams.core.timebase import week_days, week_of
from streams.core.unit.summary import DaySummary

FIRST_DAY = week_days(week_of(739_000))[0]
UNITS = ("care-a", "care-b", "care-c")
# Few weeks kept, so that a history of 40 weeks is forgotten from many times over.
CONFIG = MonitorConfig(drift=DriftConfig(refold_weeks=9, warmup_weeks=3))


def _day(rng: random.Random, unit: str, day: int) -> DaySummary:
    return DaySummary(unit, day, 0.0, 0.0, 0, ed_visits=float(rng.randint(0, 6)), readmissions=float(rng.randint(0, 1)),
                      discharges=float(rng.randint(0, 3)), care_change=float(rng.randint(-2, 4)),
                      beds_change=float(rng.randint(-1, 2)))


def _batches(seed: int, weeks: int) -> list[list[DaySummary]]:
    """A week of every unit's days per batch; some days sent again, changed, up to 4 weeks later."""
    rng = random.Random(seed)
    out: list[list[DaySummary]] = [[] for _ in range(weeks + 5)]
    for w in range(weeks):
        for unit in UNITS:
            for day in week_days(week_of(FIRST_DAY) + w):
                out[w].append(_day(rng, unit, day))
                if rng.random() < 0.15:
                    out[w + rng.randint(1, 4)].append(_day(rng, unit, day))
    return out


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_care_populations_carried_over_equal_those_summed_afresh_after_a_restart(seed: int) -> None:
    carried, restarted = OrgState(), OrgState()
    drift = OrgDrift(CONFIG)
    for batch in _batches(seed, 40):
        restarted = OrgState.from_dict(json.loads(json.dumps(restarted.to_dict())))
        assert drift.apply(carried, batch) == drift.apply(restarted, batch)
        assert carried.to_dict() == restarted.to_dict()
        care = carried.care
        assert care is not None
        # Read for any week still held: the same as summed from the series alone.
        first, last = min(min(s) for s in care.series.values()), max(max(s) for s in care.series.values())
        fresh = OrgState.from_dict(care.to_dict())
        kept, summed = CarePopulations(care, first + 7, last), CarePopulations(fresh)
        for unit in UNITS:
            for day in range(first, last + 1):
                assert kept.on(unit, day) == summed.on(unit, day)
                assert kept.beds.on(unit, day) == summed.beds.on(unit, day)
    assert carried.care is not None and carried.care.care_base  # days were forgotten into the bases


def test_a_refold_window_shorter_than_the_detectors_snapshot_spacing_is_refused_at_start() -> None:
    """With fewer than 8 weeks, forgetting could leave no snapshot inside the window and a late week would
    crash the organisation stage; the configuration says so instead, naming the key."""
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError, match="refold_weeks"):
        DriftConfig(refold_weeks=7)
    assert DriftConfig(refold_weeks=8).refold_weeks == 8

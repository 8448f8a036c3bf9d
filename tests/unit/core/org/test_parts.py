"""The organisation state as parts (core/org/parts.py): the parts make the state again exactly, and the
parts a batch marks changed are all that changed, so that the parts written so far always make the state
as it is, and a stage resumed from them concludes what one never stopped concludes."""

from __future__ import annotations

import random
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.config import DriftConfig, MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.parts import from_parts, take_changes, to_parts
from streams.core.org.state import OrgState
from streams.core.timebase import week_days, week_of
from streams.core.unit.summary import DaySummary

FIRST_WEEK = week_of(739_000)
WORKPLACES = ("ward-1", "ward-2", "ward-3", "ward-4")
CARE_UNITS = ("care-a", "care-b", "care-c")
# Few weeks kept, so that 30 weeks are forgotten from many times over, snapshots dropped with them.
CONFIG = MonitorConfig(drift=DriftConfig(refold_weeks=9, warmup_weeks=3))


def _day(rng: random.Random, unit: str, day: int) -> DaySummary:
    if unit.startswith("care"):
        return DaySummary(unit, day, 0.0, 0.0, 0, ed_visits=float(rng.randint(0, 6)),
                          readmissions=float(rng.randint(0, 1)), discharges=float(rng.randint(0, 3)),
                          care_change=float(rng.randint(-2, 4)), beds_change=float(rng.randint(-1, 2)))
    # ward-1's sick leave drifts up from week 14: flags raised, revised and forgotten
    drifting = unit == "ward-1" and day >= week_days(FIRST_WEEK + 14)[0]
    occasions = sum(rng.random() < (0.25 if drifting else 0.04) for _ in range(4))
    return DaySummary(unit, day, occasions * rng.choice((1, 1.5, 2)), float(occasions), rng.randint(38, 42))


def batches(seed: int, weeks: int) -> list[list[DaySummary]]:
    """Every unit's days, a unit starting weeks late now and then; some days sent again, changed, up to
    5 weeks later (a few of them too late for drift); batches of any size, a day's units in any order."""
    rng = random.Random(seed)
    start = {u: rng.choice((0, 0, 0, rng.randint(1, 8))) if u != "ward-1" else 0 for u in WORKPLACES + CARE_UNITS}
    late: dict[int, list[DaySummary]] = {}
    stream: list[DaySummary] = []
    for w in range(weeks):
        for day in week_days(FIRST_WEEK + w):
            units = [u for u in WORKPLACES + CARE_UNITS if w >= start[u]]
            rng.shuffle(units)
            stream += [_day(rng, u, day) for u in units]
            if rng.random() < 0.2:
                late.setdefault(w + rng.randint(1, 5) + (12 if rng.random() < 0.15 else 0), []).append(
                    _day(rng, rng.choice(units), day - rng.randint(0, 6)))
        stream += late.pop(w, [])
    out = []
    i = 0
    while i < len(stream):
        n = rng.choice((1, 5, 30, 200))
        out.append(stream[i:i + n])
        i += n
    return out


def _json(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


def _order(state: OrgState | None) -> list[list[str]]:
    if state is None:
        return []
    return [list(state.series), *([list(units) for units in state.monitors.values()]), *_order(state.care)]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_the_parts_written_so_far_make_the_state_and_a_stage_resumed_from_them_goes_on_alike(seed: int) -> None:
    drift = OrgDrift(CONFIG)
    live, resumed = OrgState(), OrgState()
    flags_seen = 0
    stored: dict[str, Any] = {}  # the parts as written: everything at first, then each batch's changes
    for batch in batches(seed, 30):
        flags = drift.apply(live, batch)
        assert flags == drift.apply(resumed, batch)
        flags_seen += len(flags)
        changes = take_changes(live)
        if changes is None:
            stored = _json(to_parts(live))
        else:
            parts, gone = _json(changes)
            for name in gone:
                stored.pop(name, None)
            stored.update(parts)
        rebuilt = from_parts(stored)
        assert rebuilt.to_dict() == live.to_dict()
        assert _order(rebuilt) == _order(live)  # the units in the order sums over them run in
        assert take_changes(live) == ({"h": stored["h"], **({"c/h": stored["c/h"]} if live.care else {})}, [])
        resumed = from_parts(stored)
    assert live.care is not None and live.care.care_base  # days were forgotten
    assert live.late_for_drift + live.care.late_for_drift  # and some came too late
    assert flags_seen


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), cut=st.integers(0, 400))
def test_every_state_is_made_again_from_its_parts(seed: int, cut: int) -> None:
    drift, state = OrgDrift(CONFIG), OrgState()
    for batch in batches(seed, 30)[:cut]:
        drift.apply(state, batch)
    rebuilt = from_parts(_json(to_parts(state)))
    assert rebuilt.to_dict() == state.to_dict() and _order(rebuilt) == _order(state)
    assert to_parts(rebuilt) == _json(to_parts(state))


def test_a_state_that_was_not_taken_as_parts_before_is_written_whole() -> None:
    drift, state = OrgDrift(CONFIG), OrgState()
    for batch in batches(1, 4):
        drift.apply(state, batch)
    assert take_changes(state) is None  # new: everything
    drift.apply(state, [DaySummary("ward-1", week_days(FIRST_WEEK + 4)[0], 1.0, 1.0, 10)])
    changes = take_changes(state)
    assert changes is not None
    assert sorted(changes[0]) == ["c/h", "h", f"s/{week_days(FIRST_WEEK + 4)[0]}/ward-1", "u/ward-1"]

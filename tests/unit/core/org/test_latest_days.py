"""The organisation state keeps the slowest unit's day (`evaluation_day`) and the earliest day its series hold
as they change, instead of passing over every unit each time it is asked: over any sequence of unit-days
reported, clock moves, days forgotten and round trips through the state's stored forms (whole and as
parts), each answers exactly what the pass over every unit answered, and what is stored is what it was."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.org.drift import _forget_days
from streams.core.org.latest_days import LatestDays
from streams.core.org.parts import from_parts, to_parts
from streams.core.org.state import OrgState
from streams.core.unit.summary import day_figures

UNITS = [f"unit-{i}" for i in range(6)]
DAY0 = 739_000

Op = tuple[Any, ...]
ops = st.lists(st.one_of(
    st.tuples(st.just("report"), st.sampled_from(UNITS), st.integers(DAY0, DAY0 + 60)),
    st.tuples(st.just("clock"), st.integers(DAY0 - 5, DAY0 + 80)),
    st.tuples(st.just("ask"), st.sampled_from((0, 3, 7, 14, 28, 10_000))),
    st.tuples(st.just("forget"), st.integers(DAY0, DAY0 + 60)),
    st.tuples(st.just("stored"), st.sampled_from(("whole", "parts"))),
), max_size=80)


def _slowest_by_a_pass(state: OrgState, horizon_days: int) -> int:
    """`evaluation_day` as a pass over every unit (what it was)."""
    active = [d for d in state.unit_days.values() if d >= state.clock_day - horizon_days]
    return min(active, default=state.clock_day)


def _earliest_by_a_pass(state: OrgState) -> int:
    return min(min(series) for series in state.series.values() if series)


def _json(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


@settings(max_examples=300, deadline=None)
@given(ops=ops)
def test_the_kept_days_answer_as_a_pass_over_every_unit(ops: list[Op]) -> None:
    state = OrgState()
    for op in ops:
        if op[0] == "report":  # as the stage takes a unit-day (drift.py: PeerGroupDrift._take)
            _, unit, day = op
            state.series.setdefault(unit, {})[day] = day_figures([1.0, 1.0, 10])
            state.hold(day)
            state.clock_day = max(state.clock_day, day)
            state.reached(unit, day)
        elif op[0] == "clock":
            state.clock_day = op[1]
        elif op[0] == "ask":
            assert state.evaluation_day(op[1]) == _slowest_by_a_pass(state, op[1])
        elif op[0] == "forget":
            _forget_days(state, op[1], -1)
        else:
            before = state.to_dict()
            state = (OrgState.from_dict(_json(before)) if op[1] == "whole"
                     else from_parts(_json(to_parts(state))))
            assert state.to_dict() == before
            assert state.latest is None and state.held_from is None  # rebuilt when asked for, never stored
        if any(state.series.values()):
            assert state.earliest_held() == _earliest_by_a_pass(state)
        for horizon in (0, 7, 10_000):
            assert state.evaluation_day(horizon) == _slowest_by_a_pass(state, horizon)


def test_the_stored_state_has_no_more_than_before() -> None:
    state = OrgState()
    for unit, day in (("a", DAY0), ("b", DAY0 + 3), ("a", DAY0 + 5)):
        state.series.setdefault(unit, {})[day] = day_figures([0.0, 0.0, 5])
        state.hold(day)
        state.clock_day = max(state.clock_day, day)
        state.reached(unit, day)
    assert state.evaluation_day(7) == DAY0 + 3 and state.earliest_held() == DAY0
    stored = state.to_dict()
    assert set(stored) == {"version", "series", "clock_day", "evaluated_week", "monitors", "snapshots",
                           "recent_flags", "late_for_drift", "origin_week", "unit_days", "dirty_week", "restart",
                           "care_base", "beds_base", "care", "first_days", "beds_from"}
    assert stored["unit_days"] == {"a": DAY0 + 5, "b": DAY0 + 3}
    assert not any(name.startswith(("latest", "held")) for name in to_parts(state))


@settings(max_examples=200, deadline=None)
@given(moves=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 30)), max_size=60),
       asks=st.lists(st.integers(-2, 33), min_size=1, max_size=5))
def test_latest_days_is_a_multiset_of_the_units_latest_days(moves: list[tuple[int, int]], asks: list[int]) -> None:
    latest, days = LatestDays(), {}
    for unit, day in moves:
        latest.move(days.get(unit), day)
        days[unit] = day
        for at in asks:
            assert latest.first_from(at, -1) == min((d for d in days.values() if d >= at), default=-1)
    rebuilt = LatestDays(days.values())
    assert [rebuilt.first_from(at, -1) for at in asks] == [latest.first_from(at, -1) for at in asks]

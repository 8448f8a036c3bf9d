"""The organisation stage takes what a batch brings as it takes the same summaries one at a time.

A summary says a unit-day's figures as they now are, and a group takes a day it holds or one with its
figures: a day first sent with figures and then as zero must end held as zero, whether the two come in one
batch or two. The worker's batches are cut wherever its records end (and elsewhere after a restart); the
chaos backfill of 2026-12-07 found a batch that held a care unit's day with figures and then as zero, kept
the figures, and raised a level flag that replay never raises."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.config import MonitorConfig
from streams.core.org.drift import OrgDrift
from streams.core.org.parts import to_parts
from streams.core.org.state import OrgState
from streams.core.stages import UnitStage, UnitUpdate
from streams.core.unit.summary import DaySummary, batch_summaries
from streams.core.unit.tracker import UnitState
from tests.unit.core.unit.test_summaries_after_a_restart import CONFIG as UNIT_CONFIG
from tests.unit.core.unit.test_summaries_after_a_restart import updates

DAY = 739_000
UNITS = ("hr-1", "hr-2", "care-1", "care-2")


def test_a_day_sent_with_figures_then_as_zero_in_one_batch_is_held_as_zero() -> None:
    with_figures = DaySummary("care-1", DAY, 0.0, 0.0, 0, care_change=-1.0)
    as_zero = DaySummary("care-1", DAY, 0.0, 0.0, 0)
    one_batch, two_batches = OrgState(), OrgState()
    drift = OrgDrift(MonitorConfig())
    drift.apply(one_batch, [with_figures, as_zero])
    drift.apply(two_batches, [with_figures])
    drift.apply(two_batches, [as_zero])
    assert one_batch.care is not None and two_batches.care is not None
    assert one_batch.care.series == two_batches.care.series
    assert one_batch.care.series["care-1"][DAY] == as_zero.figures()


def test_a_workplace_day_with_a_headcount_then_none_in_one_batch_is_held_as_none() -> None:
    drift = OrgDrift(MonitorConfig())
    one_batch, two_batches = OrgState(), OrgState()
    first, then = DaySummary("hr-1", DAY, 1.0, 1.0, 12), DaySummary("hr-1", DAY, 0.0, 0.0, 0)
    drift.apply(one_batch, [first, then])
    drift.apply(two_batches, [first])
    drift.apply(two_batches, [then])
    assert one_batch.series == two_batches.series


@st.composite
def summaries(draw: st.DrawFn) -> list[DaySummary]:
    out = []
    for _ in range(draw(st.integers(1, 80))):
        unit = draw(st.sampled_from(UNITS))
        day = DAY + draw(st.integers(0, 60))
        zero = draw(st.integers(0, 2)) == 0
        if unit.startswith("hr"):
            out.append(DaySummary(unit, day, 0.0 if zero else draw(st.sampled_from([0.0, 1.0])),
                                  0.0 if zero else draw(st.sampled_from([0.0, 1.0])),
                                  0 if zero else draw(st.integers(0, 15))))
        else:
            ed_visits = 0.0 if zero else draw(st.sampled_from([0.0, 1.0, 2.0]))
            care_change = 0.0 if zero else draw(st.sampled_from([-1.0, 0.0, 1.0]))
            out.append(DaySummary(unit, day, 0.0, 0.0, 0, ed_visits=ed_visits, care_change=care_change))
    return out


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(summaries(), st.lists(st.integers(1, 20), min_size=1, max_size=10))
def test_batches_cut_anywhere_leave_the_state_that_one_summary_at_a_time_leaves(
        sent: list[DaySummary], cuts: list[int]) -> None:
    drift = OrgDrift(MonitorConfig())
    one_at_a_time, in_batches = OrgState(), OrgState()
    for s in sent:
        drift.apply(one_at_a_time, [s])
    i = k = 0
    while i < len(sent):
        n = cuts[k % len(cuts)]
        drift.apply(in_batches, sent[i:i + n])
        i, k = i + n, k + 1
    # what the group holds of each unit-day and of each unit (its latest and first day); when its weeks are
    # evaluated, and so its detectors' bookkeeping, may differ (the flags, drift's own tests hold)
    held = [{n: v for n, v in to_parts(s).items() if n.startswith(("s/", "u/", "c/s/", "c/u/"))}
            for s in (one_at_a_time, in_batches)]
    assert json.dumps(held[1], sort_keys=True) == json.dumps(held[0], sort_keys=True)


def _held(state: OrgState) -> str:
    return json.dumps({n: v for n, v in to_parts(state).items() if n.startswith(("s/", "u/", "c/s/", "c/u/"))},
                      sort_keys=True)


def test_a_unit_batch_that_makes_a_day_with_figures_and_then_as_zero_sends_both() -> None:
    first = DaySummary("care-1", DAY, 0.0, 0.0, 0, care_change=1.0)
    zero = DaySummary("care-1", DAY, 0.0, 0.0, 0)
    other = DaySummary("care-2", DAY, 0.0, 0.0, 0, ed_visits=1.0)
    assert batch_summaries([first, other, zero]) == [first, zero, other]  # care-1's both, in order
    assert batch_summaries([zero, other, first]) == [first, other]  # the last says it all


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(updates(), st.lists(st.integers(1, 12), min_size=1, max_size=30))
def test_what_unit_batches_send_leaves_the_organisation_holding_what_every_summary_does(
        history: list[UnitUpdate], cuts: list[int]) -> None:
    """Replay sends every summary an update makes; the worker's unit agent, per batch, `batch_summaries`."""
    drift = OrgDrift(MonitorConfig())
    replay_stage, worker_stage = UnitStage(UNIT_CONFIG), UnitStage(UNIT_CONFIG)
    replay_units = {u: UnitState(u) for u in ("u-a", "u-b")}
    worker_units = {u: UnitState(u) for u in ("u-a", "u-b")}
    replay_org, worker_org = OrgState(), OrgState()
    i = k = 0
    while i < len(history):
        batch = history[i:i + cuts[k % len(cuts)]]
        i, k = i + len(batch), k + 1
        made = []
        for update in batch:
            for s in replay_stage.handle(replay_units[update.unit_id], update).summaries:
                drift.apply(replay_org, [s])
            made += worker_stage.handle(worker_units[update.unit_id], update).summaries
        drift.apply(worker_org, batch_summaries(made))
        assert _held(worker_org) == _held(replay_org)

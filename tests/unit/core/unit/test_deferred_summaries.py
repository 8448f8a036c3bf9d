"""The worker's unit agent makes a day's summary once a batch (`UnitStage(defer_summaries=True)`), not after
each update that changes the day, as replay does. What the organisation stage is sent must not differ in
anything it keeps: after every batch, the unit's state is the one replay's stage leaves, every day the
organisation holds has the same figures, and what the deferring stage leaves out is only a summary that
says again what was sent before. Updates of many persons, days far apart and out of order (a backlog's
partitions run days apart), contributions that cancel, staffing reports, re-sent updates, and batches cut
anywhere."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.config import MonitorConfig
from streams.core.stages import StaffingReport, UnitStage, UnitUpdate
from streams.core.unit.tracker import DayFigures, UnitState

DAY = 739_000
CONFIG = MonitorConfig(retention_days=60)  # the shortest allowed, so that days are forgotten while due
METRICS = ("sick_days", "occasions", "ed_visits", "readmissions", "discharges", "care_population_change")


@st.composite
def updates(draw: st.DrawFn) -> list[UnitUpdate]:
    out: list[UnitUpdate] = []
    seqs: dict[str, int] = {}
    for i in range(draw(st.integers(1, 60))):
        unit = draw(st.sampled_from(["u-a", "u-b"]))
        if draw(st.integers(0, 9)) == 0:  # a staffing report
            day = DAY + draw(st.integers(0, 200))
            headcount = draw(st.integers(0, 40))
            out.append(UnitUpdate(unit, staffing=StaffingReport(day * 86400, f"s{i}", day, headcount, day * 86400)))
            continue
        person = draw(st.sampled_from(["p_1", "p_2", "p_3", "p_4"]))
        if seqs.get(person) and draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from([u for u in out if u.source == person])))  # re-sent
            continue
        seqs[person] = seqs.get(person, 0) + 1
        base = DAY + draw(st.integers(0, 200))
        deltas = [(draw(st.sampled_from(METRICS)), base + draw(st.integers(-3, 3)),
                   draw(st.sampled_from([1.0, -1.0, 0.5]))) for _ in range(draw(st.integers(0, 3)))]
        presence = [(person, base)] if draw(st.booleans()) else []
        out.append(UnitUpdate(unit, person, seqs[person], deltas, presence))
    return out


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(updates(), st.lists(st.integers(1, 12), min_size=1, max_size=30))
def test_deferred_summaries_leave_the_organisation_holding_what_per_update_summaries_do(
        history: list[UnitUpdate], cuts: list[int]) -> None:
    _both_stages(history, cuts)


def test_a_day_never_sent_that_comes_back_to_nothing_within_a_batch_is_sent_as_nothing() -> None:
    """A day first sent within a batch is compared from then on: when its figures come back to zero in the
    same batch, the organisation is told (it holds the day now), as replay tells it."""
    _both_stages([UnitUpdate("u-a", "p_1", 1, [("ed_visits", DAY + 10, 1.0)]),  # DAY is settled now
                  UnitUpdate("u-a", "p_2", 1, [("ed_visits", DAY, 1.0)]),  # its first summary
                  UnitUpdate("u-a", "p_3", 1, [("ed_visits", DAY, -1.0)])], [3])  # back to nothing


def _both_stages(history: list[UnitUpdate], cuts: list[int]) -> None:
    each, once = UnitStage(CONFIG), UnitStage(CONFIG, defer_summaries=True)
    states_each = {u: UnitState(u) for u in ("u-a", "u-b")}
    states_once = {u: UnitState(u) for u in ("u-a", "u-b")}
    held_each: dict[tuple[str, int], DayFigures] = {}  # what the organisation holds of each unit-day
    held_once: dict[tuple[str, int], DayFigures] = {}
    i, k = 0, 0
    while i < len(history):
        batch = history[i:i + cuts[k % len(cuts)]]
        i, k = i + len(batch), k + 1
        sent_each: dict[tuple[str, int], DayFigures] = {}  # the worker sends the last summary of a day a batch
        sent_once: dict[tuple[str, int], DayFigures] = {}
        for update in batch:
            for s in each.handle(states_each[update.unit_id], update).summaries:
                sent_each[(s.unit_id, s.day)] = s.figures()
            for s in once.handle(states_once[update.unit_id], update).summaries:
                sent_once[(s.unit_id, s.day)] = s.figures()
        for state in states_once.values():  # the batch closes
            for s in once.due_summaries(state):
                sent_once[(s.unit_id, s.day)] = s.figures()
            assert not state.due
        for unit in states_each:
            assert states_once[unit].to_dict() == states_each[unit].to_dict()
        for key, figures in sent_each.items():
            if key not in sent_once:  # left out: it says again what the organisation holds
                assert held_each.get(key) == figures
        assert set(sent_once) <= set(sent_each)
        held_each.update(sent_each)
        held_once.update(sent_once)
        assert held_once == held_each


def test_a_state_with_summaries_due_is_never_written() -> None:
    stage = UnitStage(CONFIG, defer_summaries=True)
    state = UnitState("u-a")
    stage.handle(state, UnitUpdate("u-a", "p_1", 1, [("ed_visits", DAY, 1.0)]))
    stage.handle(state, UnitUpdate("u-a", "p_2", 1, [("ed_visits", DAY + 10, 1.0)]))  # DAY settles: sent
    stage.handle(state, UnitUpdate("u-a", "p_3", 1, [("ed_visits", DAY, 1.0)]))  # changes a day sent: due
    assert state.due == {DAY}
    try:
        state.to_dict()
    except RuntimeError:
        pass
    else:
        raise AssertionError("a state with summaries due was written")
    [summary] = stage.due_summaries(state)
    assert (summary.day, summary.ed_visits) == (DAY, 2.0)
    assert state.to_dict()["sent"][str(DAY)][3] == 2.0

"""The worker's unit agent makes a day's summary once a batch (`UnitStage(defer_summaries=True)`), not after
each update that changes the day, as replay does. What the organisation stage is sent must not differ in
anything it keeps: after every batch, the unit's state is the one replay's stage leaves, every day the
organisation holds has the same figures, and what the deferring stage leaves out is only a summary that
says again what was sent before. Updates of many persons, days far apart and out of order (a backlog's
partitions run days apart), contributions that cancel, staffing reports, re-sent updates, a unit that
learns its organisation (its peer group) after it has sent days to the default group, and batches cut
anywhere."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.config import MonitorConfig
from streams.core.stages import StaffingReport, UnitStage, UnitUpdate
from streams.core.unit.summary import DayFigures
from streams.core.unit.tracker import UnitState

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
        organisation = draw(st.sampled_from([None] * 8 + ["556036-0793", "212000-0142"]))
        out.append(UnitUpdate(unit, person, seqs[person], deltas, presence, organisation=organisation))
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


def test_a_day_changed_before_the_unit_names_its_organisation_reaches_the_default_group() -> None:
    """A day sent to the default group changes, then an update of the same batch names the unit's
    organisation: the default group is told of the change (as replay tells it), the organisation's not."""
    _both_stages([UnitUpdate("u-a", "p_1", 1, [("ed_visits", DAY, 1.0)]),
                  UnitUpdate("u-a", "p_2", 1, [("ed_visits", DAY + 10, 1.0)]),  # DAY settles: sent
                  UnitUpdate("u-a", "p_3", 1, [("ed_visits", DAY, 1.0)]),  # changes it
                  UnitUpdate("u-a", "p_4", 1, [("ed_visits", DAY + 11, 1.0)], organisation="556036-0793")],
                 [2, 2])


def test_a_day_sent_to_the_default_group_that_changes_and_changes_back_reaches_the_organisation() -> None:
    """After the unit names its organisation, a day it sent to the default group changes and comes back
    within a batch: replay sends it to the organisation's group twice, so the deferring stage sends it once."""
    _both_stages([UnitUpdate("u-a", "p_1", 1, [("ed_visits", DAY, 1.0)]),
                  UnitUpdate("u-a", "p_2", 1, [("ed_visits", DAY + 10, 1.0)]),  # DAY settles: sent
                  UnitUpdate("u-a", "p_3", 1, [("ed_visits", DAY + 11, 1.0)], organisation="556036-0793"),
                  UnitUpdate("u-a", "p_4", 1, [("ed_visits", DAY, 1.0)]),  # changes DAY
                  UnitUpdate("u-a", "p_4", 2, [("ed_visits", DAY, -1.0)])],  # and back
                 [3, 2])


def _both_stages(history: list[UnitUpdate], cuts: list[int]) -> None:
    each, once = UnitStage(CONFIG), UnitStage(CONFIG, defer_summaries=True)
    states_each = {u: UnitState(u) for u in ("u-a", "u-b")}
    states_once = {u: UnitState(u) for u in ("u-a", "u-b")}
    # what each peer group holds of each unit-day (None: the default group)
    held_each: dict[tuple[str | None, str, int], DayFigures] = {}
    held_once: dict[tuple[str | None, str, int], DayFigures] = {}
    i, k = 0, 0
    while i < len(history):
        batch = history[i:i + cuts[k % len(cuts)]]
        i, k = i + len(batch), k + 1
        # the worker sends the last summary of a unit-day to a peer group a batch
        sent_each: dict[tuple[str | None, str, int], DayFigures] = {}
        sent_once: dict[tuple[str | None, str, int], DayFigures] = {}
        for update in batch:
            for s in each.handle(states_each[update.unit_id], update).summaries:
                sent_each[(s.organisation, s.unit_id, s.day)] = s.figures()
            for s in once.handle(states_once[update.unit_id], update).summaries:
                sent_once[(s.organisation, s.unit_id, s.day)] = s.figures()
        for state in states_once.values():  # the batch closes
            for s in once.due_summaries(state):
                sent_once[(s.organisation, s.unit_id, s.day)] = s.figures()
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

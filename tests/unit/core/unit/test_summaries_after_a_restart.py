"""What the organisation stage holds of each unit-day when the worker's unit agent is killed and restarts.

The agent sends each batch's day summaries at once but writes the units' states every few seconds, so a
crash loses from the restored state's `sent` whatever was sent since the last write, and the updates after
that write are taken again, in other batches. The organisation must still end up holding each day's last
figures, as replay leaves it: for that a summary is made after each update that changes a day (a batch
sends the last of each unit-day), never once a batch. Made once a batch, a day that a lost batch sent
changed, and that comes back to what the restored state says was sent, was left out after the restart: the
organisation kept the lost batch's figures (the chaos backfill's extra drift flag of 2026-12-07; the first
example below). Updates of many persons, days far apart and out of order, contributions that cancel,
staffing reports, re-sent updates, a unit that names its organisation mid-stream, batches cut anywhere, the
state written after any batch and the worker killed any number of batches later."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.config import MonitorConfig
from streams.core.stages import StaffingReport, UnitStage, UnitUpdate
from streams.core.unit.summary import DayFigures, batch_summaries
from streams.core.unit.tracker import UnitState

DAY = 739_000
CONFIG = MonitorConfig(retention_days=60)  # the shortest allowed, so that days are forgotten along the way
METRICS = ("sick_days", "occasions", "ed_visits", "readmissions", "discharges", "care_population_change")
UNITS = ("u-a", "u-b")

Held = dict[tuple[str | None, str, int], DayFigures]  # what each peer group holds of a unit-day (None: default)


@st.composite
def updates(draw: st.DrawFn) -> list[UnitUpdate]:
    out: list[UnitUpdate] = []
    seqs: dict[str, int] = {}
    for i in range(draw(st.integers(1, 60))):
        unit = draw(st.sampled_from(UNITS))
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


batch_sizes = st.lists(st.integers(1, 12), min_size=1, max_size=30)


@settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(updates(), batch_sizes, batch_sizes, st.integers(0, 10), st.integers(0, 10))
def test_a_restart_from_the_last_written_state_leaves_the_organisation_holding_what_replay_does(
        history: list[UnitUpdate], cuts: list[int], cuts_after: list[int], written_after: int, killed_after: int
) -> None:
    _killed_and_restarted(history, cuts, cuts_after, written_after, written_after + killed_after)


def test_a_day_a_lost_batch_sent_changed_and_that_comes_back_is_sent_again_after_the_restart() -> None:
    history = [UnitUpdate("u-a", "p_1", 1, [("ed_visits", DAY, 1.0)]),
               UnitUpdate("u-a", "p_2", 1, [("ed_visits", DAY + 10, 1.0)]),  # DAY settles: sent with 1; written
               UnitUpdate("u-a", "p_3", 1, [("ed_visits", DAY, 1.0)]),  # DAY sent with 2; then killed
               UnitUpdate("u-a", "p_3", 2, [("ed_visits", DAY, -1.0)])]  # back to 1
    # before the kill: [p_1, p_2] (written after it), [p_3 1]; after it, from the written state: [p_3 1, p_3 2]
    _killed_and_restarted(history, [2, 1], [2], written_after=1, killed_after=2)


def test_a_unit_that_names_its_organisation_in_the_batches_taken_again() -> None:
    history = [UnitUpdate("u-a", "p_1", 1, [("ed_visits", DAY, 1.0)]),
               UnitUpdate("u-a", "p_2", 1, [("ed_visits", DAY + 10, 1.0)]),  # DAY settles: sent
               UnitUpdate("u-a", "p_3", 1, [("ed_visits", DAY + 11, 1.0)], organisation="556036-0793"),
               UnitUpdate("u-a", "p_4", 1, [("ed_visits", DAY, 1.0)]),  # changes DAY
               UnitUpdate("u-a", "p_4", 2, [("ed_visits", DAY, -1.0)])]  # and back
    for written_after in range(4):
        for killed_after in range(written_after, 6):
            _killed_and_restarted(history, [1, 2], [3], written_after, killed_after)


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(updates(), batch_sizes)
def test_batches_cut_anywhere_leave_the_organisation_holding_what_replay_does_after_each_batch(
        history: list[UnitUpdate], cuts: list[int]) -> None:
    replay, worker = UnitStage(CONFIG), UnitStage(CONFIG)
    replay_states = {u: UnitState(u) for u in UNITS}
    states = {u: UnitState(u) for u in UNITS}
    expected: Held = {}
    held: Held = {}
    for start, end in _cut(len(history), cuts):
        for update in history[start:end]:
            for s in replay.handle(replay_states[update.unit_id], update).summaries:
                expected[(s.organisation, s.unit_id, s.day)] = s.figures()
        _worker_batch(worker, states, history[start:end], held)
        assert held == expected
        assert {u: s.to_dict() for u, s in states.items()} == {u: s.to_dict() for u, s in replay_states.items()}


def _killed_and_restarted(history: list[UnitUpdate], cuts: list[int], cuts_after: list[int],
                          written_after: int, killed_after: int) -> None:
    """The worker runs `killed_after` batches cut by `cuts`, its states written after the first
    `written_after`; a new worker starts from that state, at its position, and takes the rest, cut by
    `cuts_after`. The organisation holds the last summary of each unit-day it was sent, by either."""
    replay = UnitStage(CONFIG)
    replay_states = {u: UnitState(u) for u in UNITS}
    expected: Held = {}
    for update in history:
        for s in replay.handle(replay_states[update.unit_id], update).summaries:
            expected[(s.organisation, s.unit_id, s.day)] = s.figures()

    held: Held = {}
    batches = _cut(len(history), cuts)
    written_after, killed_after = min(written_after, len(batches)), min(max(killed_after, written_after), len(batches))
    states = {u: UnitState(u) for u in UNITS}
    written: tuple[dict[str, dict[str, object]], int] = ({u: copy.deepcopy(s.to_dict()) for u, s in states.items()}, 0)
    worker = UnitStage(CONFIG)
    for b, (start, end) in enumerate(batches[:killed_after]):
        _worker_batch(worker, states, history[start:end], held)
        if b + 1 == written_after:
            written = ({u: copy.deepcopy(s.to_dict()) for u, s in states.items()}, end)
    worker = UnitStage(CONFIG)
    states = {u: UnitState.from_dict(d) for u, d in written[0].items()}
    rest = history[written[1]:]
    for start, end in _cut(len(rest), cuts_after):
        _worker_batch(worker, states, rest[start:end], held)
    assert held == expected
    assert {u: s.to_dict() for u, s in states.items()} == {u: s.to_dict() for u, s in replay_states.items()}


def _cut(n: int, sizes: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i, k = 0, 0
    while i < n:
        out.append((i, min(n, i + sizes[k % len(sizes)])))
        i, k = out[-1][1], k + 1
    return out


def _worker_batch(stage: UnitStage, states: dict[str, UnitState], batch: list[UnitUpdate], held: Held) -> None:
    """One batch of the worker's unit agent: what `batch_summaries` keeps of the summaries made is sent."""
    made = [s for update in batch for s in stage.handle(states[update.unit_id], update).summaries]
    for s in batch_summaries(made):
        held[(s.organisation, s.unit_id, s.day)] = s.figures()

"""Late, reordered and duplicated events: counted as if on time within the bound, rejected beyond it."""

from __future__ import annotations

import datetime as dt
import itertools

from streams.models import RejectReason
from streams.models.rejections import Rejection
from tests.helpers import NOW, day_epoch, event, flags_of, monitor, run, sick, sick_days

NOW_LINE = event("staffing", 0, headcount=20)


def test_days_reported_in_reverse_within_the_lateness_give_the_same_flags_and_raised_at() -> None:
    lines = sick_days(list(range(0, 15)))
    in_order = flags_of(run(lines))
    # Each day reported late, newest first, all within 7 days of the stream's clock.
    reordered = lines[0:8][::-1] + lines[8:15][::-1]
    assert flags_of(run(reordered)) == in_order
    assert [f["rule"] for f in in_order] == ["long_sick_leave"]


def test_a_late_day_that_bridges_two_occasions_merges_them() -> None:
    lines = sick_days([0, 1, 2]) + sick_days([8, 9]) + [sick(5)]  # day 5 arrives last, 4 days late
    m = run(lines)
    assert m.tally.rejected == {}
    assert m.units["unit-a"].total("occasions", 0, 10**7) == 1


def test_an_event_more_than_7_days_behind_the_stream_clock_is_rejected_too_late() -> None:
    m = monitor()
    for person in ("emp-2", "emp-3", "emp-4"):  # the stream's clock starts once a few events agree
        m.process(sick(10, person=person), now=NOW)
    result = m.process(sick(2, person="emp-1"), now=NOW)
    assert result.rejection is not None and result.rejection.reason is RejectReason.TOO_LATE
    assert m.tally.rejected[RejectReason.TOO_LATE] == 1
    ok = m.process(sick(3, person="emp-1"), now=NOW)
    assert ok.rejection is None  # exactly 7 days behind is still on time


def test_a_duplicate_event_id_is_ignored_and_counted() -> None:
    line = sick(0, event_id="dup-1")
    m = run([NOW_LINE, line, line, line])
    assert m.tally.duplicates == 2
    assert m.units["unit-a"].total("sick_days", 0, 10**7) == 1.0


def test_a_withdrawn_flag_is_reported_when_late_data_shows_the_condition_did_not_hold() -> None:
    # Six one-day occasions flag; then a late day bridges occasions 5 and 6: five occasions, no flag.
    # One person's sparse days: each arrives at its own time (the stream's clock would hold a line that
    # jumps more than the lateness ahead until the stream is seen to move on with it).
    starts = [0, 40, 80, 120, 160, 166]
    m = monitor()
    out = []
    for s in starts:
        out += m.process(sick(s), NOW, arrival=day_epoch(s)).flags
    assert [f.status.value for f in out] == ["raised"]
    late = m.process(sick(163), NOW, arrival=day_epoch(166))
    assert [(f.rule.value, f.status.value) for f in late.flags] == [("repeated_sick_leave", "withdrawn")]
    assert m.open_flags() == []


def test_too_late_names_the_clock_the_event_was_measured_against() -> None:
    # The worker measures an event against the person's clock (the latest arrival of their events), which
    # can be ahead of this event's own arrival (a history sent again, another source's header): the
    # message names that clock, not the arrival (a stranger found the arrival's date there).
    from streams.core.config import MonitorConfig
    from streams.core.decode import decode_event
    from streams.core.monitor import TallyCounts
    from streams.core.person.tracker import PersonState
    from streams.core.stages import Admitted, PersonInput, PersonStage, person_input
    from streams.core.timebase import from_epoch

    stage, state = PersonStage(MonitorConfig()), PersonState()
    counts = TallyCounts(monitor().tally)
    places = itertools.count()

    def admitted(day: int, arrival_day: int) -> PersonInput:
        event = decode_event(sick(day, event_id=f"e{day}"), NOW, max_bytes=65536, max_future=dt.timedelta(days=1))
        assert not isinstance(event, Rejection)
        return person_input(Admitted(event, "p_1", day_epoch(arrival_day), f"care.events/0/{next(places)}"),
                            stage.config.timezone)

    assert stage.step(state, admitted(40, 40), counts).rejection is None
    late = stage.step(state, admitted(10, 12), counts).rejection
    assert late is not None and late.reason is RejectReason.TOO_LATE
    assert f"({from_epoch(day_epoch(40)).date()})" in late.message
    assert f"({from_epoch(day_epoch(12)).date()})" not in late.message


def test_an_event_read_again_after_its_id_is_forgotten_is_a_duplicate_not_too_late() -> None:
    # After a crash a stage can read a backlog again; the person's clock stands months later by then, and
    # the id is forgotten (lateness + dedup window). Its place in its source tells it was taken.
    m = monitor()
    first = sick(0, event_id="first")
    assert m.process(first, NOW, arrival=day_epoch(0), source_offset="care.events/3/5").rejection is None
    for i, d in enumerate(range(20, 100, 20)):
        m.process(sick(d), NOW, arrival=day_epoch(d), source_offset=f"care.events/3/{10 + i}")
    before = m.tally.duplicates
    again = m.process(first, NOW, arrival=day_epoch(0), source_offset="care.events/3/5")
    assert again.rejection is None and m.tally.duplicates == before + 1
    # never taken: the verdict stands, from a later place of the same source or from another source
    for place in ("care.events/3/50", "care.events/1/2"):
        late = m.process(sick(1), NOW, arrival=day_epoch(1), source_offset=place)
        assert late.rejection is not None and late.rejection.reason is RejectReason.TOO_LATE


def test_the_places_taken_survive_the_state_being_written_and_read() -> None:
    from streams.core.person.tracker import PersonState

    state = PersonState(taken={"care.events/3": 17})
    assert PersonState.from_dict(state.to_dict()).taken == {"care.events/3": 17}
    written = PersonState().to_dict()
    assert "taken" not in written and PersonState.from_dict(written).taken == {}

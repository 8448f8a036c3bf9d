"""Corrections from source systems: retractions, and one event_id sent with two contents. Neither may
make the result depend on arrival order (within the allowed lateness)."""

from __future__ import annotations

import datetime as dt
import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import NOW, event, monitor, run, sick


def outcome(lines: list[str]) -> tuple[list[str], list[str]]:
    m = run(lines)
    return ([f.model_dump_json() for f in m.open_flags()],
            [json.dumps(i.as_dict(), sort_keys=True) for i in m.unit_indicators()])


def retraction(of: str, day: int, person: str = "emp-1") -> str:
    retracted = json.loads(of)
    return event("retraction", day, hour=20, person_id=person, retracts=retracted["event_id"],
                 retracted_occurred_at=retracted["occurred_at"])


def sick_spells(person: str = "emp-1", starts: tuple[int, ...] = (0, 10, 20, 30, 40, 50)) -> list[str]:
    # staffing, and another employee's day after them: the unit's clock (the latest day it has data
    # for, which a retraction does not move back) is the same with and without the retracted event
    return [sick(d, person) for d in starts] + [event("staffing", 0, headcount=20), sick(55, "emp-9")]


def test_a_retraction_removes_the_event_and_withdraws_the_flag_that_rested_on_it() -> None:
    lines = sick_spells()
    m = monitor()
    for line in lines:
        m.process(line, NOW)
    m.finish()
    assert [f.rule.value for f in m.open_flags()] == ["repeated_sick_leave"]
    result = m.process(retraction(lines[5], 52), NOW, arrival=m.clock.now)
    assert result.rejection is None
    assert result.rejection is None
    assert [(f.status.value, f.withdrawn_because) for f in result.flags] == [("withdrawn", "retraction")]
    assert m.open_flags() == []
    assert outcome(lines + [retraction(lines[5], 52)]) == outcome(lines[:5] + lines[6:])


def test_a_retraction_that_comes_first_makes_the_event_ignored_when_it_comes() -> None:
    lines = sick_spells()
    early = [retraction(lines[5], 49)] + lines[:5] + lines[6:] + [lines[5]]
    assert outcome(early) == outcome(lines[:5] + lines[6:])


def test_a_retraction_of_a_settled_event_is_rejected_too_late_and_changes_nothing() -> None:
    lines = sick_spells()
    m = monitor()
    for line in lines:
        m.process(line, NOW)
    m.finish()
    later = [sick(day, f"other-{day}") for day in range(60, 80)]  # the stream moves on: day 0 settles
    for line in later:
        m.process(line, NOW)
    result = m.process(retraction(lines[0], 79), NOW, arrival=m.clock.now)
    assert result.rejection is not None and result.rejection.reason.value == "too_late"


def test_one_event_id_with_two_contents_uses_neither_whatever_the_order() -> None:
    lines = sick_spells()
    first = lines[5]
    second = json.dumps({**json.loads(first), "extent": 0.5})
    for order in ([*lines, second], [*lines[:5], second, *lines[6:], first]):
        m = run(order)
        assert m.tally.rejected["conflicting_duplicate"] == 1
        assert [f.rule.value for f in m.open_flags()] == []
    assert outcome([*lines, second]) == outcome([*lines[:5], second, *lines[6:], first]) == \
        outcome(lines[:5] + lines[6:])


def test_a_conflict_withdraws_what_the_first_version_raised_with_its_reason() -> None:
    lines = sick_spells()
    second = json.dumps({**json.loads(lines[5]), "extent": 0.5})
    m = monitor()
    for line in lines:
        m.process(line, NOW)
    m.finish()
    result = m.process(second, NOW, arrival=m.clock.now)
    assert result.rejection is not None and result.rejection.reason.value == "conflicting_duplicate"
    assert [(f.status.value, f.withdrawn_because) for f in result.flags] == [
        ("withdrawn", "conflicting_duplicate")]


def arrived_in_order(lines: list[str]) -> tuple[list[str], list[str]]:
    """Each line arrives at the latest occurred_at so far (no stream clock holding sparse lines)."""
    m = monitor()
    clock = 0
    for line in lines:
        clock = max(clock, int(dt.datetime.fromisoformat(json.loads(line)["occurred_at"]).timestamp()))
        m.process(line, NOW, arrival=clock)
    return ([f.model_dump_json() for f in m.open_flags()],
            [json.dumps(i.as_dict(), sort_keys=True) for i in m.unit_indicators()])


@settings(max_examples=60, derandomize=True, deadline=None)
@given(seed=st.integers(0, 10_000), retract=st.sets(st.integers(0, 29), max_size=6), data=st.data())
def test_retractions_before_or_after_within_the_lateness_equal_never_having_sent_the_events(
        seed: int, retract: set[int], data: st.DataObject) -> None:
    rng = random.Random(seed)
    days = sorted(rng.sample(range(1, 120), 30))
    lines = [event(rng.choice(["sick_leave", "emergency_visit"]), d, person_id="p1", hour=9) for d in days]
    head = [event("staffing", 0, headcount=30), sick(0, "emp-9")]
    tail = [sick(125, "emp-9")]  # the unit's clock is the same with and without the retracted events
    stream: list[str] = list(head)
    for k, line in enumerate(lines):
        if k in retract and data.draw(st.booleans(), label=f"retraction of {k} first"):
            stream += [retraction(line, days[k] - 1, "p1"), line]  # the day before: it comes first
        elif k in retract:
            stream += [line, retraction(line, days[k] + data.draw(st.integers(0, 6)), "p1")]
        else:
            stream.append(line)
    kept = head + [line for k, line in enumerate(lines) if k not in retract] + tail
    assert arrived_in_order(sorted(stream + tail, key=lambda x: json.loads(x)["occurred_at"])) == \
        arrived_in_order(kept)

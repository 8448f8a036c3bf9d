"""Results depend on the events, not on the order they arrive in within the allowed lateness."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.config import DriftConfig, MonitorConfig
from streams.core.monitor import Monitor
from streams.simulators.simulation import Scenario, generate
from tests.helpers import event, run

LATENESS_S = 7 * 86400

persons = st.sampled_from(["emp-1", "emp-2", "emp-3"])


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, str]]:
    """(occurred_at epoch, line) for a few people over ~3 months, with a staffing report first."""
    lines = [event("staffing", 0, headcount=12, event_id="st-0")]
    n = draw(st.integers(min_value=1, max_value=60))
    for i in range(n):
        kind = draw(st.sampled_from(["sick", "sick", "sick", "ed", "stay"]))
        day = draw(st.integers(min_value=0, max_value=90))
        hour = draw(st.integers(min_value=0, max_value=23))
        person = draw(persons)
        if kind == "sick":
            extent = draw(st.sampled_from([0.25, 0.5, 1.0]))
            lines.append(event("sick_leave", day, hour=hour, person_id=person, extent=extent,
                               event_id=f"s{i}"))
        elif kind == "ed":
            lines.append(event("emergency_visit", day, hour=hour, person_id=person, event_id=f"d{i}"))
        else:
            planned = draw(st.booleans())
            lines.append(event("admission", day, hour=hour, person_id=person, stay_id=f"st{i}",
                               planned=planned, event_id=f"a{i}"))
            lines.append(event("discharge", day + 2, hour=hour, person_id=person, stay_id=f"st{i}",
                               event_id=f"x{i}"))
    return [(_epoch(line), line) for line in lines]


def _epoch(line: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(json.loads(line)["occurred_at"]).timestamp())


def in_event_time_order(events: list[tuple[int, str]]) -> list[str]:
    return [line for _, line in sorted(events)]


def arrival_order(events: list[tuple[int, str]], delays: list[float]) -> list[str]:
    """Each event arrives within the lateness after it occurred: none is too late."""
    pairs = enumerate(zip(events, delays, strict=True))
    keyed = [(t + int(d * (LATENESS_S - 1)), i, line) for i, ((t, line), d) in pairs]
    return [line for _, _, line in sorted(keyed)]


def outcome(m: Monitor) -> tuple[list[str], list[str]]:
    # A flag's revision note (`revised_because`, `changed`) tells how it got there; what it says does not.
    flags = [f.model_dump_json(exclude={"revised_because", "changed"}) for f in m.open_flags()]
    units = [json.dumps(i.as_dict(), sort_keys=True) for i in m.unit_indicators()]
    return flags, units


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_shuffling_within_the_lateness_does_not_change_flags_or_indicators(
    events: list[tuple[int, str]], data: st.DataObject
) -> None:
    delays = data.draw(st.lists(st.floats(0, 1), min_size=len(events), max_size=len(events)))
    reference = run(in_event_time_order(events))
    shuffled = run(arrival_order(events, delays))
    assert shuffled.tally.rejected == {}
    assert outcome(shuffled) == outcome(reference)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_duplicates_and_malformed_lines_do_not_change_flags(
    events: list[tuple[int, str]], data: st.DataObject
) -> None:
    lines = in_event_time_order(events)
    noisy = list(lines)
    junk = ["", "{", "[]", '{"event_type": "sick_leave"}', "\u0000", '{"event_type":"x"}', "null"]
    for _ in range(data.draw(st.integers(0, 10))):
        pos = data.draw(st.integers(0, len(noisy)))
        if data.draw(st.booleans()):
            noisy.insert(pos, data.draw(st.sampled_from(junk)))
        else:  # a re-send of an event that has already arrived
            noisy.insert(pos, data.draw(st.sampled_from(noisy[: pos + 1] if pos else lines[:1])))
    assert outcome(run(noisy)) == outcome(run(lines))


def test_a_realistic_stream_with_drift_gives_the_same_flags_in_any_order_within_the_bound() -> None:
    scenario = Scenario(seed=11, days=240, units=5, care_persons=60, late_share=0.0, duplicate_share=0.0,
                        drift_unit=1, drift_onset_day=120, drift_factor=3.0)
    config = MonitorConfig(drift=DriftConfig(warmup_weeks=6))
    published = [line for _, line in generate(scenario)]
    events = [(_epoch(line), line) for line in published]
    rng = random.Random(5)
    reference = run(in_event_time_order(events), config)
    drift_flags = [f for f in reference.open_flags() if f.rule.value == "unit_sick_leave_drift"]
    assert drift_flags, "the scenario must exercise drift detection"
    for order in (published, arrival_order(events, [rng.random() for _ in events])):
        m = run(order, config)
        assert m.tally.rejected == {}
        assert outcome(m) == outcome(reference)

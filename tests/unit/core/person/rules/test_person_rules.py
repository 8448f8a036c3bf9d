"""The person rules at their exact edges: occasions, long and repeated sick leave, ED visits, readmission."""

from __future__ import annotations

import datetime as dt
import json

from streams.core.monitor import Monitor
from streams.core.person.fold import PersonFold
from streams.core.pseudonym import Pseudonymiser
from tests.helpers import KEY, event, flags_of, run, sick, sick_days


def fold(m: Monitor, person: str = "emp-1") -> PersonFold:
    subject = Pseudonymiser(KEY)(person)
    return m.person_stage.tracker.current(m.persons[subject], subject)


def occasions(m: Monitor, person: str = "emp-1") -> list[tuple[int, int]]:
    start = dt.date(2025, 1, 6).toordinal()
    return [(o.start_day - start, o.days) for o in fold(m, person).occasions]


def spells(*starts: int, length: int = 1) -> list[str]:
    return [line for s in starts for line in sick_days(list(range(s, s + length)))]


# -- occasions: the 5-day rule --------------------------------------------------------------------

def test_a_sick_day_5_days_after_the_last_continues_the_occasion() -> None:
    assert occasions(run(sick_days([0, 5]))) == [(0, 2)]


def test_a_sick_day_6_days_after_the_last_starts_a_new_occasion() -> None:
    assert occasions(run(sick_days([0, 6]))) == [(0, 1), (6, 1)]


def test_the_same_day_reported_twice_counts_once() -> None:
    m = run([sick(0, extent=0.5), sick(0, extent=1.0), sick(1)])
    assert occasions(m) == [(0, 2)]
    assert m.units["unit-a"].total("sick_days", 0, 10**7) == 2.0


# -- long_sick_leave --------------------------------------------------------------------------------

def test_long_sick_leave_is_flagged_on_the_15th_sick_day_not_the_14th() -> None:
    assert flags_of(run(sick_days(list(range(14)))), "long_sick_leave") == []
    flags = flags_of(run(sick_days(list(range(15)))), "long_sick_leave")
    assert len(flags) == 1
    assert flags[0]["raised_at"] == "2025-01-20T07:00:00Z"  # day 14 = the 15th day, 08:00 CET
    assert flags[0]["evidence"]["occasion_days"] == 15


def test_a_long_sick_leave_names_every_sick_day_of_its_occasion_with_its_day() -> None:
    lines = sick_days(list(range(20, 35)))  # after a short earlier occasion, whose days are not its evidence
    [flag] = flags_of(run(sick_days([0, 1]) + lines), "long_sick_leave")
    ev = flag["evidence"]
    ids = [json.loads(line)["event_id"] for line in lines]
    assert ev["event_ids"] == ids
    assert [(e["event_id"], e["day"]) for e in ev["dated_events"]] == \
        [(i, str(dt.date(2025, 1, 6) + dt.timedelta(days=20 + k))) for k, i in enumerate(ids)]


def test_repeated_sick_leave_and_ed_visits_give_the_day_of_each_event() -> None:
    [flag] = flags_of(run(spells(0, 40, 80, 120, 160, 200, length=3)), "repeated_sick_leave")
    days = [(e["day"], e.get("last_day")) for e in flag["evidence"]["dated_events"]]
    first = dt.date(2025, 1, 6)
    ends = [(d, d + 2) for d in (0, 40, 80, 120, 160)] + [(200, 200)]  # raised on the sixth's first day
    assert days == [(str(first + dt.timedelta(a)), str(first + dt.timedelta(b))) for a, b in ends]
    [flag] = flags_of(run([ed(0, hour=0), ed(100), ed(200), ed(300)]), "frequent_emergency_visits")
    # 00:00 in Stockholm is the day before in UTC: days are local, as the rules count them
    assert [e["day"] for e in flag["evidence"]["dated_events"]] == \
        [str(first + dt.timedelta(d)) for d in (0, 100, 200, 300)]
    assert [e["event_id"] for e in flag["evidence"]["dated_events"]] == flag["evidence"]["event_ids"]


def test_gap_days_within_an_occasion_do_not_count_as_sick_days() -> None:
    days = list(range(0, 10)) + list(range(13, 18))  # 15 sick days over 18 calendar days
    flags = flags_of(run(sick_days(days)), "long_sick_leave")
    assert [f["raised_at"][:10] for f in flags] == ["2025-01-23"]  # day 17


def test_long_sick_leave_flags_once_per_occasion_and_again_for_a_new_one() -> None:
    days = list(range(0, 30)) + list(range(40, 60))
    assert len(flags_of(run(sick_days(days)), "long_sick_leave")) == 2


# -- repeated_sick_leave ----------------------------------------------------------------------------

def test_six_occasions_within_365_days_raise_a_flag_five_do_not() -> None:
    assert flags_of(run(spells(0, 30, 60, 90, 120)), "repeated_sick_leave") == []
    flags = flags_of(run(spells(0, 30, 60, 90, 120, 150)), "repeated_sick_leave")
    assert len(flags) == 1
    evidence = flags[0]["evidence"]
    assert evidence["occasions"] == 6 and evidence["threshold"] == 6
    assert evidence["bradford_factor"] == 6 * 6 * 6
    assert len(evidence["event_ids"]) == 6


def test_the_365_day_window_includes_day_364_and_excludes_day_365() -> None:
    assert len(flags_of(run(spells(0, 70, 140, 210, 280, 364)), "repeated_sick_leave")) == 1
    assert flags_of(run(spells(0, 70, 140, 210, 280, 365)), "repeated_sick_leave") == []


def test_repeated_sick_leave_flags_once_per_episode_and_again_after_it_cleared() -> None:
    first = [0, 20, 40, 60, 80, 100, 120]  # 7 occasions: one flag
    second = [600, 620, 640, 660, 680, 700]  # a year later the count has dropped below 6: new episode
    flags = flags_of(run(spells(*first, *second)), "repeated_sick_leave")
    assert [f["raised_at"][:10] for f in flags] == ["2025-04-16", "2026-12-07"]  # days 100 and 700


def test_flags_name_a_pseudonym_never_the_source_person_id() -> None:
    flags = flags_of(run(spells(0, 30, 60, 90, 120, 150)))
    assert flags and all(f["subject_id"].startswith("p_") and "emp-1" not in str(f) for f in flags)


def test_flag_ids_are_the_same_on_every_run() -> None:
    lines = spells(0, 30, 60, 90, 120, 150)
    assert [f["flag_id"] for f in flags_of(run(lines))] == [f["flag_id"] for f in flags_of(run(lines))]


# -- frequent_emergency_visits ----------------------------------------------------------------------

def ed(day: int, hour: int = 8) -> str:
    return event("emergency_visit", day, hour=hour, person_id="pat-1", unit_id="vc-1")


def test_four_ed_visits_within_365_days_raise_a_flag_three_do_not() -> None:
    assert flags_of(run([ed(0), ed(100), ed(200)]), "frequent_emergency_visits") == []
    flags = flags_of(run([ed(0), ed(100), ed(200), ed(300)]), "frequent_emergency_visits")
    assert len(flags) == 1 and flags[0]["evidence"]["visits"] == 4


def test_a_visit_exactly_365_days_before_is_outside_the_window() -> None:
    assert flags_of(run([ed(0), ed(100), ed(200), ed(365)]), "frequent_emergency_visits") == []
    assert len(flags_of(run([ed(0, 9), ed(100), ed(200), ed(365, 8)]), "frequent_emergency_visits")) == 1


# -- readmission_30d --------------------------------------------------------------------------------

def stay(day: int, stay_id: str, *, planned: bool = False, hour: int = 12, length: int = 3) -> list[str]:
    return [event("admission", day, hour=hour, person_id="pat-1", unit_id="vc-1", stay_id=stay_id,
                  planned=planned),
            event("discharge", day + length, hour=hour, person_id="pat-1", unit_id="vc-1", stay_id=stay_id)]


def test_unplanned_admission_30_days_after_discharge_is_a_readmission() -> None:
    lines = stay(0, "s1") + stay(33, "s2")  # discharge day 3 at 12:00, admission day 33 at 12:00
    flags = flags_of(run(lines), "readmission_30d")
    assert len(flags) == 1
    assert flags[0]["evidence"]["days_after_discharge"] == 30.0


def test_admission_more_than_30_days_after_discharge_is_not() -> None:
    assert flags_of(run(stay(0, "s1") + stay(33, "s2", hour=13)), "readmission_30d") == []


def test_an_admission_of_the_same_stay_is_not_a_readmission_of_it() -> None:
    # A stay whose discharge is recorded before a (late) admission record of the same stay, then a new
    # stay: the index discharge is s1's, matched to s2's admission only.
    lines = [event("discharge", 3, hour=12, person_id="pat-1", unit_id="vc-1", stay_id="s1"),
             event("admission", 4, hour=12, person_id="pat-1", unit_id="vc-1", stay_id="s1", planned=False)]
    assert flags_of(run(lines), "readmission_30d") == []
    s2 = stay(10, "s2")
    flags = flags_of(run(lines + s2), "readmission_30d")
    assert [f["evidence"]["admission_event_id"] for f in flags] == [json.loads(s2[0])["event_id"]]


def test_planned_admission_is_not_a_readmission() -> None:
    assert flags_of(run(stay(0, "s1") + stay(10, "s2", planned=True)), "readmission_30d") == []


def test_readmission_rate_counts_each_index_discharge_once() -> None:
    m = run(stay(0, "s1") + stay(10, "s2") + stay(20, "s3"))
    unit = m.units["vc-1"]
    assert unit.total("discharges", 0, 10**7) == 3
    assert unit.total("readmissions", 0, 10**7) == 2

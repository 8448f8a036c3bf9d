"""Property-based tests over everything that parses outside input (issue 12, item 2): any bytes, any
JSON, any ISO-8601 string in any field, any `om-arrival` header, through the whole path replay and the
worker run (decode, the stream's clock, arrival, pseudonym, person, unit and organisation stages): an
event or a rejection, never an exception. Fixed seeds (`derandomize`) and fixed budgets, so a CI run
is the same run every time; with these budgets they find both crashes the issue reported on the
commit it was filed against (year-1 `occurred_at`, `om-arrival: 1000000000000`; see the closing note).
"""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.arrival import Arrival, arrival_of
from streams.core.config import MonitorConfig
from streams.core.monitor import Monitor
from streams.core.programme_config import ProgrammeConfig
from tests.helpers import NOW, monitor

FIELDS = ["event_id", "event_type", "occurred_at", "unit_id", "person_id", "source", "extent", "headcount",
          "stay_id", "planned", "minutes", "program", "retracts", "retracted_occurred_at", "status", "reason",
          "organisation", "instrument", "question", "scale", "answer"]
TYPES = ["sick_leave", "staffing", "emergency_visit", "admission", "discharge", "home_care_contact",
         "enrollment", "retraction", "survey_response"]
BUDGET = settings(max_examples=400, derandomize=True, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12)
iso_strings = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59),
                 timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59),
                 timezones=st.just(dt.UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
                  r"(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"),
    # the edges of what a datetime can hold, where conversions to UTC and to local days overflow
    st.builds(lambda edge, h, sign, off: f"{edge}T{h:02d}:30:00{sign}{off:02d}:00",
              st.sampled_from(["0001-01-01", "9999-12-31", "1900-01-01", "1970-01-01"]),
              st.sampled_from([0, 23]), st.sampled_from("+-"), st.sampled_from([1, 14])))
contract_like = st.fixed_dictionaries(
    {"event_id": st.text(min_size=1, max_size=20), "event_type": st.sampled_from(TYPES),
     "occurred_at": iso_strings, "unit_id": st.text(min_size=1, max_size=12),
     "person_id": st.text(min_size=1, max_size=16)},
    optional={name: st.one_of(json_values, iso_strings) for name in FIELDS[5:]})


def lines_fed(m: Monitor, lines: list[bytes]) -> None:
    for line in lines:
        for _, result in m.feed(line, NOW):
            assert result.rejection is not None or result.flags is not None
    m.finish()


@BUDGET
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=5))
def test_any_bytes(lines: list[bytes]) -> None:
    lines_fed(monitor(), lines)


@BUDGET
@given(st.lists(json_values.map(lambda v: json.dumps(v).encode()), min_size=1, max_size=5))
def test_any_json(lines: list[bytes]) -> None:
    lines_fed(monitor(), lines)


@BUDGET
@given(st.lists(contract_like.map(lambda d: json.dumps(d).encode()), min_size=1, max_size=6))
def test_any_values_in_the_contract_s_fields_including_any_iso_8601_string(lines: list[bytes]) -> None:
    lines_fed(monitor(), lines)


# Surveys declared and a programme followed: survey answers, enrolments and organisations go all the way into
# the programme's ledgers, survey store and figures.
FOLLOWED = MonitorConfig(survey_scales={"s": ("a", "b", "c")}, programmes=(
    ProgrammeConfig(name="team", kind="care", surveys=("i",)),))
_when = st.sampled_from(["2025-01-06T08:00:00+01:00", "2025-03-31T23:30:00+02:00", "2025-06-30T10:00:00+02:00"])
_common = {"event_id": st.sampled_from(["e1", "e2", "e3", "e4", "e5"]), "occurred_at": _when | iso_strings,
           "unit_id": st.sampled_from(["u1", "u2"])}
_person = st.sampled_from(["p1", "p2", "8112189876"])
_organisation = st.sampled_from(["212000-0142", "2120001355", "8112189876", "212000-0143", "x"]) | st.text(max_size=12)
programme_like = st.one_of(
    st.fixed_dictionaries(
        {**_common, "event_type": st.just("survey_response"), "instrument": st.sampled_from(["i", "j"]),
         "question": st.sampled_from(["q", "r"]), "scale": st.sampled_from(["s", "s", "t"]) | st.text(max_size=3),
         "answer": st.sampled_from(["a", "b", "c", "d"]) | json_values},
        optional={"person_id": _person, "organisation": _organisation}),
    st.fixed_dictionaries(
        {**_common, "event_type": st.just("enrollment"), "person_id": _person, "program": st.just("team")},
        optional={"status": st.sampled_from(["joined", "left", "gone"]),
                  "reason": st.sampled_from(["completed", "declined", "moved", "died", ""]) | json_values,
                  "organisation": _organisation}),
    st.fixed_dictionaries(
        {**_common, "event_type": st.sampled_from(["emergency_visit", "sick_leave"]), "person_id": _person},
        optional={"organisation": _organisation}),
)


@BUDGET
@given(st.lists(programme_like.map(lambda d: json.dumps(d).encode()), min_size=1, max_size=8))
def test_any_programme_event_through_ledgers_surveys_and_figures(lines: list[bytes]) -> None:
    m = monitor(FOLLOWED)
    lines_fed(m, lines)
    for figures in m.programme_figures("2025Q2"):
        figures.results.figures()


@BUDGET
@given(st.lists(st.tuples(st.sampled_from(["sick_leave", "emergency_visit", "staffing"]), iso_strings),
                min_size=1, max_size=4))
def test_any_iso_8601_string_as_the_time_of_an_otherwise_valid_event(events: list[tuple[str, str]]) -> None:
    lines = [json.dumps({"event_id": f"e{i}", "event_type": kind, "occurred_at": when, "unit_id": "u1",
                         **({"headcount": 12} if kind == "staffing" else {"person_id": "p1"})}).encode()
             for i, (kind, when) in enumerate(events)]
    lines_fed(monitor(), lines)


VALID = json.dumps({"event_id": "e1", "event_type": "emergency_visit", "occurred_at": "2025-03-01T10:00:00+01:00",
                    "unit_id": "u1", "person_id": "p1"}).encode()


@BUDGET
@given(header=st.one_of(st.binary(max_size=24), st.integers(-(2**70), 2**70).map(lambda n: str(n).encode()),
                        st.floats().map(lambda f: repr(f).encode())),
       timestamp_ms=st.integers(min_value=0, max_value=2**63 - 1),
       event=st.one_of(st.just(VALID), contract_like.map(lambda d: json.dumps(d).encode())))
def test_any_arrival_header_and_record_timestamp_through_the_whole_path(header: bytes, timestamp_ms: int,
                                                                       event: bytes) -> None:
    m = monitor()
    arrived = arrival_of([("om-arrival", header)], timestamp_ms)
    if isinstance(arrived, Arrival):
        result = m.process(event, NOW, arrival=arrived.seconds)
        assert result.rejection is not None or result.flags is not None
    without = arrival_of([], timestamp_ms)
    if isinstance(without, Arrival):
        m.process(event, NOW, arrival=without.seconds)

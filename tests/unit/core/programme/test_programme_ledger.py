"""The programme ledger (issue 15): monthly aggregates from events, order-independent, duplicates ignored,
state that round-trips."""

from __future__ import annotations

import datetime as dt
import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.programme.ledger import (
    ADMISSIONS,
    ED_VISITS,
    HOME_CARE_UNPLANNED,
    HOME_CARE_UNPLANNED_MINUTES,
    INPATIENT_DAYS,
    LONG_DAYS,
    PLANNED_INPATIENT_DAYS,
    SHORT_DAYS,
    SICK_DAYS,
    SICK_OCCASIONS,
    LedgerBook,
    PersonLedger,
    step,
)
from streams.core.programme.months import parse_month
from streams.models.events import EVENT_ADAPTER, PersonEvent

START = dt.date(2025, 1, 1)


def ev(kind: str, day: int, eid: str, hour: int = 10, person: str = "p1", **fields: object) -> PersonEvent:
    d = START + dt.timedelta(days=day)
    body = {"event_id": eid, "event_type": kind, "unit_id": fields.pop("unit_id", "u1"), "person_id": person,
            "occurred_at": f"{d.isoformat()}T{hour:02d}:00:00+01:00", **fields}
    event = EVENT_ADAPTER.validate_json(json.dumps(body))
    assert not isinstance(event, type(None))
    return event  # type: ignore[return-value]


def months(ledger: PersonLedger) -> dict[str, dict[str, float]]:
    from streams.core.programme.months import month_label

    return {month_label(m): dict(sorted(t.values.items())) for m, t in sorted(ledger.months().items())
            if t.values}


def test_a_stay_counts_its_nights_in_the_months_they_fall_in_and_planned_stays_apart() -> None:
    led = PersonLedger()
    led.add(ev("admission", 29, "a1", stay_id="s1"))  # 30 January
    led.add(ev("discharge", 33, "d1", stay_id="s1"))  # 3 February: nights 30, 31 Jan, 1, 2 Feb
    led.add(ev("admission", 40, "a2", stay_id="s2", planned=True))
    led.add(ev("discharge", 42, "d2", stay_id="s2"))
    m = months(led)
    assert m["2025-01"] == {ADMISSIONS: 1.0, INPATIENT_DAYS: 2.0}
    assert m["2025-02"] == {INPATIENT_DAYS: 2.0, PLANNED_INPATIENT_DAYS: 2.0, "planned_admissions": 1.0}


def test_an_open_stay_counts_nothing_until_discharged() -> None:
    led = PersonLedger()
    led.add(ev("admission", 3, "a1", stay_id="s1"))
    assert months(led) == {}


def test_sick_leave_occasions_continue_within_five_days_and_split_short_from_long() -> None:
    led = PersonLedger()
    for d in range(0, 10):  # days 1..10 of an occasion
        led.add(ev("sick_leave", d, f"s{d}"))
    for d in range(14, 22):  # 5 days after the last: still the same occasion (its days 11..18)
        led.add(ev("sick_leave", d, f"t{d}", extent=0.5))
    led.add(ev("sick_leave", 40, "x"))  # a new occasion
    m = months(led)["2025-01"]  # day 0..30 in January; day 40 in February
    assert m[SICK_OCCASIONS] == 1.0  # the second occasion starts in February
    assert m[SICK_DAYS] == 10 + 8 * 0.5
    assert m[SHORT_DAYS] == 10 + 4 * 0.5 and m[LONG_DAYS] == 4 * 0.5
    assert months(led)["2025-02"] == {SICK_DAYS: 1.0, SICK_OCCASIONS: 1.0, SHORT_DAYS: 1.0}


def test_gap_of_six_days_starts_a_new_occasion() -> None:
    led = PersonLedger()
    led.add(ev("sick_leave", 0, "a"))
    led.add(ev("sick_leave", 6, "b"))  # 6 days after: new
    led.add(ev("sick_leave", 11, "c"))  # 5 days after: continues
    assert months(led)["2025-01"][SICK_OCCASIONS] == 2.0


def test_duplicates_and_retractions() -> None:
    led = PersonLedger()
    e = ev("emergency_visit", 2, "e1")
    assert led.add(e) and not led.add(e)
    led.add(ev("home_care_contact", 3, "h1", minutes=30, planned=False))
    led.add(ev("home_care_contact", 4, "h2", minutes=20, planned=False))
    retraction = EVENT_ADAPTER.validate_json(json.dumps({
        "event_id": "r1", "event_type": "retraction", "unit_id": "u1", "person_id": "p1",
        "occurred_at": "2025-01-06T10:00:00+01:00", "retracts": "h2",
        "retracted_occurred_at": "2025-01-05T10:00:00+01:00"}))
    led.add(retraction)  # type: ignore[arg-type]
    assert months(led)["2025-01"] == {ED_VISITS: 1.0, HOME_CARE_UNPLANNED: 1.0, HOME_CARE_UNPLANNED_MINUTES: 30.0}


def test_units_per_month_and_enrolment_episodes() -> None:
    led = PersonLedger()
    led.add(ev("emergency_visit", 2, "e1", unit_id="care-a"))
    led.add(ev("emergency_visit", 40, "e2", unit_id="care-b"))
    led.add(ev("enrollment", 10, "j1", program="team"))
    led.add(ev("enrollment", 100, "l1", program="team", status="left"))
    led.add(ev("enrollment", 120, "j2", program="team"))
    assert led.months()[parse_month("2025-01")].units == {"care-a"}
    assert led.months()[parse_month("2025-02")].units == {"care-b"}
    eps = led.episodes("team")
    assert [(e.joined_day - START.toordinal(), e.left_day) for e in eps] == [
        (10, START.toordinal() + 100), (120, None)]


def _history(seed: int) -> list[PersonEvent]:
    """A person's year: stays, ED visits, home care, sick leave; with a re-sent event."""
    rng = random.Random(seed)
    out: list[PersonEvent] = []
    d = 0
    while d < 360:
        r = rng.random()
        if r < 0.05:
            length = rng.randint(1, 20)
            out.append(ev("admission", d, f"a{d}", stay_id=f"s{d}", planned=rng.random() < 0.3))
            out.append(ev("discharge", d + length, f"d{d}", stay_id=f"s{d}"))
            d += length
        elif r < 0.15:
            out.append(ev("emergency_visit", d, f"e{d}"))
        elif r < 0.4:
            out.append(ev("home_care_contact", d, f"h{d}", minutes=rng.randint(5, 60), planned=rng.random() < 0.5))
        elif r < 0.6:
            out.append(ev("sick_leave", d, f"s{d}", extent=rng.choice([0.25, 0.5, 1.0])))
        d += rng.randint(1, 4)
    out.append(out[len(out) // 2])  # a re-send
    return out


def _fold(events: list[PersonEvent], horizon: int = 60) -> PersonLedger:
    led = PersonLedger(horizon_days=horizon)
    for e in events:
        led.add(e)
    return led


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), shuffle_seed=st.integers(0, 10_000), lateness=st.integers(0, 30))
def test_aggregates_do_not_depend_on_arrival_order(seed: int, shuffle_seed: int, lateness: int) -> None:
    """Events arriving up to `lateness` days out of order (well inside the 60-day horizon) give the same
    months as the events in time order, and as a ledger that never settles."""
    events = _history(seed)
    rng = random.Random(shuffle_seed)
    keyed = sorted(events, key=lambda e: e.occurred_at.timestamp() + rng.uniform(0, lateness * 86400))
    in_order = _fold(sorted(events, key=lambda e: e.occurred_at))
    shuffled = _fold(keyed)
    never_settled = _fold(events, horizon=100_000)
    assert months(shuffled) == months(in_order) == months(never_settled)
    assert shuffled.late_ignored == 0
    assert in_order.frontier is not None and len(in_order.pending) < len(events) / 2  # it did compact


def test_too_late_an_event_is_counted_not_used() -> None:
    led = PersonLedger(horizon_days=30)
    for d in range(0, 200, 3):
        led.add(ev("emergency_visit", d, f"e{d}"))
    before = months(led)
    assert not led.add(ev("emergency_visit", 1, "late"))
    assert led.late_ignored == 1 and months(led) == before


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.floats(0.1, 0.9))
def test_state_round_trips_through_json_mid_stream(seed: int, cut: float) -> None:
    events = sorted(_history(seed), key=lambda e: e.occurred_at)
    k = int(len(events) * cut)
    book = LedgerBook()
    for e in events[:k]:
        book.add(e)
    restored = LedgerBook.from_dict(json.loads(json.dumps(book.to_dict())))
    assert restored.to_dict() == book.to_dict()
    for e in events[k:]:
        book.add(e)
        restored.add(e)
    assert months(restored.persons["p1"]) == months(book.persons["p1"])
    assert restored.to_dict()["schema"] == 3


def test_a_state_of_another_schema_is_refused() -> None:
    import pytest

    state = PersonLedger().to_dict()
    state["schema"] = 99
    with pytest.raises(ValueError, match="schema"):
        PersonLedger.from_dict(state)


def test_step_is_the_same_fold_state_in_state_out() -> None:
    events = sorted(_history(7), key=lambda e: e.occurred_at)
    state = None
    changed = []
    for e in events:
        state, ch = step(state, e)
        state = json.loads(json.dumps(state))  # what a table stores
        changed.append(ch)
    assert state is not None
    assert months(PersonLedger.from_dict(state)) == months(_fold(events))
    assert changed.count(False) == 1  # the re-send


def test_an_enrolment_retracted_before_or_after_it_arrives_opens_no_episode() -> None:
    joined = ev("enrollment", 10, "j1", program="team")
    retraction = EVENT_ADAPTER.validate_json(json.dumps({
        "event_id": "r1", "event_type": "retraction", "unit_id": "u1", "person_id": "p1",
        "occurred_at": "2025-01-12T10:00:00+01:00", "retracts": "j1",
        "retracted_occurred_at": joined.occurred_at.isoformat()}))
    for order in ([joined, retraction], [retraction, joined]):
        led = PersonLedger()
        for e in order:
            led.add(e)  # type: ignore[arg-type]
        assert led.episodes("team") == []


def test_a_retracted_enrolment_stays_retracted_when_everything_is_sent_again_months_later() -> None:
    """After a worker's restart the same records come again, perhaps after months of event time have been
    settled: the enrolment must find that it was taken back (a member would appear from nowhere)."""
    stream = [ev("enrollment", 0, "j1", program="team"),
              ev("retraction", 1, "r1", retracts="j1", retracted_occurred_at="2025-01-01T10:00:00+00:00"),
              *[ev("emergency_visit", 10 * k, f"x{k}") for k in range(1, 12)]]
    for order in (stream, list(reversed(stream))):
        ledger = PersonLedger()
        for event in [*order, *order]:
            ledger.add(event)
        assert ledger.frontier is not None  # months were settled between the two sendings
        assert ledger.episodes("team") == []

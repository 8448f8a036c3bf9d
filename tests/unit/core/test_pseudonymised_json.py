"""The door writes each event it passes on as JSON with the pseudonym in place of the person id
(`Admitted.pseudonymised_json`). It is what a dead letter's original shows and what the programme
ledgers read, so it must be exactly what pydantic writes for the pseudonymised event: the same bytes, for
every event type, every field set or left out, any text the contract allows and any offset and fraction
of a second a timestamp may carry."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from streams.core.stages import Admitted
from streams.models.events import EVENT_ADAPTER

BUDGET = settings(max_examples=600, derandomize=True, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# what the contract lets an identifier hold: printable text, any script, emoji
text = st.text(st.characters(blacklist_categories=("Cs", "Cc"),
                             blacklist_characters="\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                                                  "\u2069\ufeff"), min_size=1, max_size=24)
timestamps = st.builds(
    lambda date, time, fraction, zone: f"{date}T{time}{fraction}{zone}",
    st.dates().filter(lambda d: d.year >= 1900).map(str),
    st.times().map(lambda t: t.strftime("%H:%M:%S")),
    st.sampled_from(["", ".5", ".25", ".123", ".000001", ".999999", ".1234567"]),
    st.one_of(st.sampled_from(["Z", "+00:00", "-00:00"]),
              st.builds(lambda sign, h, m: f"{sign}{h:02d}:{m:02d}", st.sampled_from("+-"),
                        st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))))


def _organisation_number(nine: str) -> str:
    """Nine digits (the third 2 or more) and their Luhn check digit."""
    total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d for i, d in enumerate(map(int, nine)))
    return nine + str(-total % 10)


organisations = st.builds(lambda a, b, rest, dash: (lambda n: f"{n[:6]}-{n[6:]}" if dash else n)(
    _organisation_number(f"{a}{b}{rest}")), st.integers(0, 9), st.integers(2, 9),
    st.integers(0, 9_999_999).map(lambda n: f"{n:07d}"), st.booleans())
base = {"event_id": text, "occurred_at": timestamps, "unit_id": text.map(lambda s: s[:64])}
optional = {"source": st.none() | text, "organisation": st.none() | organisations}
person = {**base, "person_id": text}
by_type = {
    "sick_leave": st.fixed_dictionaries(person, optional={**optional,
                                                          "extent": st.sampled_from([0.25, 0.5, 0.75, 1.0, 1])}),
    "staffing": st.fixed_dictionaries({**base, "headcount": st.integers(0, 1_000_000)}, optional=optional),
    "emergency_visit": st.fixed_dictionaries(person, optional=optional),
    "admission": st.fixed_dictionaries({**person, "stay_id": text}, optional={**optional, "planned": st.booleans()}),
    "discharge": st.fixed_dictionaries({**person, "stay_id": text}, optional=optional),
    "home_care_contact": st.fixed_dictionaries({**person, "minutes": st.integers(0, 1440), "planned": st.booleans()},
                                               optional=optional),
    "enrollment": st.fixed_dictionaries({**person, "program": text}, optional={
        **optional, "status": st.sampled_from(["joined", "left"]),
        "reason": st.sampled_from([None, "completed", "declined", "moved", "died"])}),
    "retraction": st.fixed_dictionaries({**person, "retracts": text, "retracted_occurred_at": timestamps},
                                        optional=optional),
    "survey_response": st.fixed_dictionaries(
        {**base, "instrument": text, "question": text, "scale": text, "answer": text},
        optional={**optional, "person_id": st.none() | text}),
}
events = st.one_of(*(strategy.map(lambda d, kind=kind: {**d, "event_type": kind})
                     for kind, strategy in by_type.items()))


@BUDGET
@given(events, st.from_regex(r"\Ap_[0-9a-f]{32}\Z"))
def test_the_pseudonymised_event_is_written_as_pydantic_writes_it(fields: dict[str, object], pseudonym: str) -> None:
    try:
        event = EVENT_ADAPTER.validate_json(json.dumps(fields, ensure_ascii=False).encode())
    except ValidationError:
        assume(False)  # an enrolment's reason without "left", a retraction of itself, a date past 9999
        raise
    subject = pseudonym if getattr(event, "person_id", None) is not None else None
    admitted = Admitted(event, subject, 0, None)
    written = admitted.pseudonymised_json()
    assert written == admitted.pseudonymised().model_dump_json().encode()
    if subject is not None:
        assert json.loads(written)["person_id"] == pseudonym  # the person id itself never leaves the door
        assert EVENT_ADAPTER.validate_json(written) == event.model_copy(update={"person_id": pseudonym})

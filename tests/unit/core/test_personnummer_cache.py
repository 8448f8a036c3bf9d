"""The personnummer verdicts cached per id string are the verdicts computed afresh, for any string and for
every written form of real numbers (as a whole value and inside tokens), asked once and again; and the
decode's check of a line's identifiers, which consults the fields before the line, finds what checking
the line first found."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from streams.core import personnummer
from streams.core.decode import _personal_identity_number_in, _without_organisation
from streams.core.personnummer import (
    contains_personal_identity_number,
    has_candidate,
    has_escape,
    is_personal_identity_number,
)
from streams.models.events import EVENT_ADAPTER

BUDGET = settings(max_examples=600, derandomize=True, deadline=None)


def _uncached_contains(value: str) -> bool:
    if personnummer._QUICK.search(value) is None:
        return False
    year = dt.datetime.now(dt.UTC).year
    return any(personnummer.plausible_birth_year(m[1], year) and personnummer._is_number(m[1], m[2], m[3])
               for m in personnummer._CANDIDATE.finditer(value))


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """A personnummer or samordningsnummer shape: a real date (the day + 60 for a coordination number), a
    serial, a check digit right or wrong, in 10 or 12 digits, with any separator."""
    day = draw(st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2030, 12, 31)))
    coordination = draw(st.booleans())
    dd = day.day + 60 if coordination else day.day
    ten = f"{day:%y%m}{dd:02d}{draw(st.integers(0, 999)):03d}"
    check = next(c for c in "0123456789" if luhn.is_valid(ten + c))
    if draw(st.booleans()):
        check = draw(st.sampled_from("0123456789"))
    head = f"{day.year // 100}{ten[:6]}" if draw(st.booleans()) else ten[:6]
    return head + draw(st.sampled_from(["", "-", "+", " "])) + ten[6:] + check


ids = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, n, b: a + n + b, st.text(min_size=120, max_size=130), numbers(), st.text(max_size=4)),
    numbers(),
    st.builds(lambda a, n, b: a + n + b, st.text(max_size=6), numbers(), st.text(max_size=6)),
    st.text(alphabet="0123456789-+ ", min_size=8, max_size=16),
)


@BUDGET
@given(st.lists(ids, min_size=1, max_size=5))
def test_cached_verdicts_are_the_verdicts_computed_afresh(values: list[str]) -> None:
    for value in values + values:  # the second time, from the cache
        assert is_personal_identity_number(value) is personnummer._is_whole_number.__wrapped__(value)
        assert contains_personal_identity_number(value) is _uncached_contains(value)


def _line_first(raw: str | bytes, event: object) -> str | None:
    """The decode's check as it was written before the fields were consulted first: the line, then the fields."""
    if not has_escape(raw) and not has_candidate(_without_organisation(raw, event)):  # type: ignore[arg-type]
        return None
    for name in ("person_id", "event_id", "unit_id", "stay_id", "retracts", "source", "program", "instrument",
                 "question", "scale", "answer"):
        value = getattr(event, name, None)
        if isinstance(value, str) and (_uncached_contains(value) or (
                name == "person_id" and personnummer._is_whole_number.__wrapped__(value))):
            return name
    return None


@BUDGET
@given(ids, ids, ids, st.sampled_from(["", "556016-0680", "5560160680"]), st.booleans())
def test_the_fields_first_find_what_the_line_first_found(person: str, event_id: str, unit: str,
                                                         organisation: str, ascii_only: bool) -> None:
    body = {"event_id": event_id or "e", "event_type": "admission", "occurred_at": "2025-03-01T08:00:00+01:00",
            "unit_id": unit or "u", "person_id": person or "p", "stay_id": "s-" + event_id}
    if organisation:
        body["organisation"] = organisation
    raw = json.dumps(body, ensure_ascii=ascii_only)
    try:
        event = EVENT_ADAPTER.validate_json(raw)
    except ValueError:
        return
    for line in (raw, raw.encode()):
        assert _personal_identity_number_in(line, event) == _line_first(line, event)


def test_only_values_as_long_as_an_identifier_are_kept() -> None:
    """Free text (a note) is checked afresh: the caches hold no more than identifiers' lengths."""
    note = "x" * personnummer.CACHED_LENGTH + " 811218-9876 and 19811218-9876"
    held = personnummer._contains.cache_info().currsize, personnummer._is_whole_number.cache_info().currsize
    assert contains_personal_identity_number(note) and not is_personal_identity_number(note)
    assert (personnummer._contains.cache_info().currsize,
            personnummer._is_whole_number.cache_info().currsize) == held
    short = "pnr-811218-9876"
    assert contains_personal_identity_number(short)
    assert personnummer._contains.cache_info().currsize in (held[0], held[0] + 1)  # held before, or now
    assert personnummer._contains(short, dt.datetime.now(dt.UTC).year) is True

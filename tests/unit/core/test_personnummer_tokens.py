"""A personnummer is recognised where a person wrote one, not inside other tokens: generated identifiers
(UUIDs of any version, ULIDs, hex digests) are never taken for one, in any field, while every written form
of a real number standing as a token inside an identifier is still rejected and redacted."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from streams.agents.runtime.dead_letters import dead_letter
from streams.core.decode import decode_event
from streams.core.personnummer import (
    MAX_AGE_YEARS,
    contains_personal_identity_number,
    has_candidate,
    is_personal_identity_number,
    plausible_birth_year,
    redact,
)
from streams.models import Rejection, RejectReason
from streams.models.events import EVENT_FIELDS
from streams.models.rejections import rejected_field
from tests.helpers import event

NOW = dt.datetime.now(dt.UTC)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Identifier fields as the decode checks them; person_id also strictly (a number in full).
FIELDS = ("event_id", "stay_id", "unit_id", "person_id")


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def uuid7(rng: random.Random) -> str:
    ms = rng.randrange(1_500_000_000_000, 2_500_000_000_000)  # 2017 .. 2049
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def ulid(rng: random.Random) -> str:
    value = (rng.randrange(1_500_000_000_000, 2_500_000_000_000) << 80) | rng.getrandbits(80)
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def digest(rng: random.Random) -> str:
    data = rng.getrandbits(64).to_bytes(8, "big")
    return hashlib.sha1(data).hexdigest() if rng.random() < 0.5 else hashlib.sha256(data).hexdigest()


GENERATORS = (uuid4, uuid7, ulid, digest)


def rejected_as_identifier(value: str, field: str) -> bool:
    """What the decode does with one identifier field (core/decode.py)."""
    return contains_personal_identity_number(value) or (field == "person_id" and is_personal_identity_number(value))


def valid_number(rng: random.Random, *, century: bool, sep: str, coordination: bool) -> str:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 70))
    day = born.day + (60 if coordination else 0)
    serial = f"{rng.randrange(1000):03d}"
    check = luhn.calc_check_digit(f"{born:%y%m}{day:02d}{serial}")
    head = f"{born.year}{born:%m}{day:02d}" if century else f"{born:%y%m}{day:02d}"
    return f"{head}{sep}{serial}{check}"


_CROCKFORD_OF_BYTE = bytes(ord(CROCKFORD[b % 32]) for b in range(256))


def many_ids(rng: random.Random, n: int) -> list[str]:
    """n identifiers, a quarter each: UUID v4, UUID v7, ULID, SHA-1 or SHA-256 hex digest (random bits
    made in bulk: what a generator writes, at a million per second rather than per minute)."""
    quarter = n // 4
    hexes = rng.randbytes(16 * quarter * 2).hex()
    uuids = []
    for k in range(2 * quarter):
        h = hexes[32 * k:32 * k + 32]
        version, variant = ("4", "89ab"[k & 3]) if k < quarter else ("7", "89ab"[(k >> 2) & 3])
        uuids.append(f"{h[:8]}-{h[8:12]}-{version}{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    letters = rng.randbytes(26 * quarter).translate(_CROCKFORD_OF_BYTE).decode()
    ulids = ["01" + letters[26 * k + 2:26 * k + 26] for k in range(quarter)]  # ms since 1970 up to 2039
    digests = rng.randbytes(52 * quarter).hex()
    hashes = [digests[104 * k:104 * k + (40 if k & 1 else 64)] for k in range(quarter)]
    return uuids + ulids + hashes


def test_a_million_generated_identifiers_are_never_taken_for_a_personnummer() -> None:
    ids = many_ids(random.Random(28), 1_000_000)
    assert len(ids) == len(set(ids)) == 1_000_000
    assert {uuid.UUID(u).version for u in ids[:1000]} == {4}
    assert {uuid.UUID(u).version for u in ids[250_000:251_000]} == {7}
    taken = [value for i, value in enumerate(ids) if rejected_as_identifier(value, FIELDS[i % 4])]
    assert taken == []


def test_uuids_whose_groups_are_valid_numbers_are_not_taken_for_one() -> None:
    """The issue's examples, and UUIDs built so that a group is a valid 12-digit number: what chance
    produces about twice in a million UUIDs without the rule that no part of a UUID is one."""
    rng = random.Random(7)
    made = ["6c040625-2346-4a1b-9c3d-1f2e3d4c5b6a", "1a2b3c4d-5e6f-4a1b-9c3d-384806798833"]
    for _ in range(200):
        pnr = valid_number(rng, century=True, sep="", coordination=rng.random() < 0.3)
        tail = uuid4(rng)
        made += [f"{pnr[:8]}-{pnr[8:]}{tail[13:]}", f"{tail[:24]}{pnr}", f"{tail[:24]}{pnr}".upper()]
    for value in made:
        assert not any(rejected_as_identifier(value, f) for f in FIELDS), value
        assert redact(value) == value


@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=150, derandomize=True, deadline=None)
@given(seed=st.integers(0, 2**32), kind=st.sampled_from(GENERATORS), sep=st.sampled_from(["", "-", "/", ":", "_"]))
def test_a_generated_id_in_any_identifier_field_is_accepted_through_the_decode(
        field: str, seed: int, kind: object, sep: str) -> None:
    rng = random.Random(seed)
    value = kind(rng)  # type: ignore[operator]
    value = f"src{sep}{value}" if sep and len(value) <= 60 else value
    line = event("admission" if field == "stay_id" else "sick_leave", 0, **{field: value})
    result = decode_event(line, NOW, max_bytes=65536, max_future=dt.timedelta(hours=24))
    assert not isinstance(result, Rejection), (line, result)


FORMS = [(c, s, k) for c in (True, False) for s in ("-", "", "+", " ") for k in (False, True)
         if not (s == "+" and c)]  # `+` says aged 100 or more: a 12-digit form has its century already


@pytest.mark.parametrize(("century", "sep", "coordination"), FORMS)
@pytest.mark.parametrize("shape", ["pnr-{}", "{}", "x_{}", "pat {}/x", "journal: {}.", "{}-a", "({})"])
def test_every_written_form_as_a_token_inside_an_identifier_is_rejected_and_redacted(
        century: bool, sep: str, coordination: bool, shape: str) -> None:
    rng = random.Random(f"{century}{sep}{coordination}{shape}")
    for field in FIELDS:
        pnr = valid_number(rng, century=century, sep=sep, coordination=coordination)
        value = shape.format(pnr)
        line = event("admission" if field == "stay_id" else "sick_leave", 0, **{field: value})
        assert has_candidate(line.encode())
        result = decode_event(line.encode(), NOW, max_bytes=65536, max_future=dt.timedelta(hours=24))
        assert isinstance(result, Rejection) and result.reason is RejectReason.RAW_PERSONAL_IDENTITY_NUMBER, value
        assert result.field == field and result.message.startswith(f"{field} holds a personnummer")
        assert pnr not in result.message and pnr not in (result.event_id or "")
        letter = json.loads(dead_letter(result, line.encode()))
        assert pnr not in letter["original_text"] and "[redacted: " in letter["original_text"]


def test_the_issue_examples_of_numbers_in_identifiers() -> None:
    for value in ("pnr-19811218-9876", "811218 9876", "x_8112189876", "811278-9873", "evt-19811278 9873"):
        assert contains_personal_identity_number(value), value
        assert "[redacted: " in redact(value)


def test_a_run_inside_another_token_is_not_a_number() -> None:
    """No letter or digit (a hex letter included) directly before or after the run."""
    for value in ("c040625-2346", "a8112189876", "8112189876b", "ab19811218-9876", "19811218-9876f", "98112189876",
                  "81121898760"):
        assert not contains_personal_identity_number(value), value
        assert redact(value) == value


def test_a_twelve_digit_number_needs_a_plausible_birth_year() -> None:
    year = dt.datetime.now(dt.UTC).year
    for born, plausible in ((year, True), (year - MAX_AGE_YEARS, True), (year + 1, False),
                            (year - MAX_AGE_YEARS - 1, False), (3848, False)):
        short = f"{born % 100:02d}0101123"
        pnr = f"{born}0101-123{luhn.calc_check_digit(short)}"
        assert plausible_birth_year(pnr[:8]) is plausible
        assert contains_personal_identity_number(f"id {pnr}") is plausible, pnr
        # person_id's strict check: a value that is a number in full is one, whatever its year
        assert is_personal_identity_number(pnr), pnr
        assert "[redacted: 13 chars]" in redact(f"id {pnr}"), "redaction is never weaker than any check"


def test_a_person_id_that_is_a_number_in_full_is_rejected_whatever_its_year() -> None:
    line = event("sick_leave", 0, person_id="38480679-8833")
    result = decode_event(line, NOW, max_bytes=65536, max_future=dt.timedelta(hours=24))
    assert isinstance(result, Rejection) and result.field == "person_id"
    assert result.message.endswith("(send a pseudonymous key as person_id)")
    assert "38480679" not in json.loads(dead_letter(result, line.encode()))["original_text"]
    accepted = decode_event(event("sick_leave", 0, event_id="38480679-8833"), NOW, max_bytes=65536,
                            max_future=dt.timedelta(hours=24))
    assert not isinstance(accepted, Rejection), "elsewhere a year 3848 is no person's"


def test_an_escape_before_a_number_does_not_hide_it_from_redaction() -> None:
    """`\\n8112189876` is a newline and a number: the `n` of the escape is no letter of the value."""
    for written in (r"\n8112189876", r"\t811218-9876", r"\u00e9\u002f8112189876", r"\/8112189876"):
        line = f'{{"event_id": "e1", "event_type": "sick_leave", "occurred_at": "2025-01-06T08:00:00+01:00", ' \
               f'"unit_id": "u", "person_id": "p", "source": "{written}"}}'
        value = json.loads(line)["source"]
        if contains_personal_identity_number(value):
            result = decode_event(line, NOW, max_bytes=65536, max_future=dt.timedelta(hours=24))
            assert isinstance(result, Rejection) and result.field == "source", written
        assert "8112189876" not in redact(line).replace("-", ""), written


def test_the_message_names_the_field_and_what_to_do() -> None:
    for field, advice in (("event_id", "write event_id without it"), ("unit_id", "write unit_id without it"),
                          ("person_id", "send a pseudonymous key as person_id")):
        line = event("sick_leave", 0, **{field: "pnr-811218-9876"})
        result = decode_event(line, NOW, max_bytes=65536, max_future=dt.timedelta(hours=24))
        assert isinstance(result, Rejection) and advice in result.message, result
        assert (field == "person_id") == ("person_id" in result.message)


@pytest.mark.parametrize(("line", "label"), [
    (event("sick_leave", 0, event_id="pnr-811218-9876"), "event_id"),
    (event("sick_leave", 0, ssn="x"), "none"),  # an unknown field's name is the sender's: unbounded
    (event("sick_leave", 0, extent=3), "extent"),
    (event("sick_leave", 0).replace('"sick_leave"', '"nope"'), "event_type"),
    (event("sick_leave", 0).replace("2025-01-06", "2999-01-06"), "occurred_at"),
    ("not json", "none"),
    ('{"event_id": "e"}', "event_type"),
])
def test_each_rejection_is_counted_under_the_field_it_is_about(line: str, label: str) -> None:
    result = decode_event(line, NOW, max_bytes=65536, max_future=dt.timedelta(hours=24))
    assert isinstance(result, Rejection)
    assert rejected_field(result, EVENT_FIELDS) == label
    assert "field" not in json.loads(result.model_dump_json()), "the rejects file is as before"

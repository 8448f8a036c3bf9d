"""Personnummer and samordningsnummer: recognised exactly (date and check digit, every written form),
found inside any identifier, and redacted wherever input is echoed."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from streams.core.personnummer import (
    contains_personal_identity_number,
    is_personal_identity_number,
    redact,
    redact_bytes,
)


def number(born: dt.date, serial: int, *, coordination: bool = False, century: bool, sep: str,
           valid: bool = True) -> str:
    day = born.day + (60 if coordination else 0)
    short = f"{born:%y%m}{day:02d}{serial:03d}"
    check = int(luhn.calc_check_digit(short))
    check = check if valid else (check + 1 + serial % 9) % 10
    head = f"{born.year:04d}{born:%m}{day:02d}" if century else f"{born:%y%m}{day:02d}"
    return f"{head}{sep}{serial:03d}{check}"


births = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2025, 12, 31))
forms = st.tuples(st.booleans(), st.sampled_from(["-", "", "+", " "]), st.booleans())


@settings(max_examples=400, derandomize=True)
@given(born=births, serial=st.integers(0, 999), form=forms)
def test_every_generated_number_is_recognised_in_every_written_form(born: dt.date, serial: int,
                                                                     form: tuple[bool, str, bool]) -> None:
    century, sep, coordination = form
    pnr = number(born, serial, coordination=coordination, century=century, sep=sep)
    assert is_personal_identity_number(pnr), pnr
    assert contains_personal_identity_number(f"emp-{pnr}-x"), pnr
    assert pnr not in redact(f'{{"person_id": "{pnr}"}}')


@settings(max_examples=400, derandomize=True)
@given(born=births, serial=st.integers(0, 999), form=forms)
def test_a_wrong_check_digit_is_not_a_number_but_is_still_redacted(born: dt.date, serial: int,
                                                                   form: tuple[bool, str, bool]) -> None:
    century, sep, coordination = form
    wrong = number(born, serial, coordination=coordination, century=century, sep=sep, valid=False)
    assert not is_personal_identity_number(wrong), wrong
    assert wrong not in redact(f"id {wrong} here"), "a mistyped number is still a person's"


def test_impossible_dates_are_not_numbers() -> None:
    for date_part in ("811318", "811232", "810230", "811200", "811292", "19811318"):
        digits = date_part[-6:] + "123"
        candidate = f"{date_part}-123{luhn.calc_check_digit(digits)}"
        assert not is_personal_identity_number(candidate), candidate
        assert redact(candidate) == candidate


def test_random_ids_are_rarely_taken_for_a_personnummer() -> None:
    rng = random.Random(5)
    for length in (10, 12):
        ids = ["".join(rng.choice("0123456789") for _ in range(length)) for _ in range(20_000)]
        share = sum(is_personal_identity_number(i) for i in ids) / len(ids)
        assert share < 0.012, f"{share:.2%} of random {length}-digit ids taken for a personnummer"


def test_redaction_keeps_what_debugging_needs() -> None:
    line = '{"event_id": "e1", "person_id": "19811218-9876", "minutes": 1735689600}'
    out = redact(line)
    assert "19811218-9876" not in out and '"person_id": "[redacted: 13 chars]"' in out
    assert "1735689600" in out, "an epoch timestamp is not a date of birth"
    assert redact_bytes(b'\xff{"p": "8112189876"}') == b'\xff{"p": "[redacted: 10 chars]"}'


def test_a_space_is_a_separator_like_the_others() -> None:
    """"811218 9876" is how many write it: taken for a number and redacted as `-` is (checksum rules unchanged)."""
    for value in ("811218 9876", "19811218 9876", "811278 9873", " 811218 9876 "):
        assert is_personal_identity_number(value), value
        assert contains_personal_identity_number(f"pat {value.strip()}/x"), value
    for value in ("811218 9877", "811318 9876", "811218  9876", "811218 98765", "1811218 9876"):
        assert not is_personal_identity_number(value), value
    assert redact('{"person_id": "19811218 9876", "n": "811218 9877"}') == \
        '{"person_id": "[redacted: 13 chars]", "n": "[redacted: 11 chars]"}'
    assert redact_bytes(b'\xff{"p": "811218 9876"}') == b'\xff{"p": "[redacted: 11 chars]"}'
    assert redact("at 10:00 on 2025-03-01, 123456 12345 and 811318 9876") == \
        "at 10:00 on 2025-03-01, 123456 12345 and 811318 9876"


def test_a_number_written_with_json_escapes_is_redacted_as_written_without() -> None:
    """JSON may write any character as `\\uXXXX`: "\\u0038112189876" is read as 8112189876. An escaped
    backslash before `u` is no escape; a line with nothing to redact is kept exactly."""
    assert redact(r'{"p": "\u0038112189876"}') == '{"p": "[redacted: 10 chars]"}'
    assert redact(r'{"p": "811218\u00209876", "q": "\u002D"}') == '{"p": "[redacted: 11 chars]", "q": "-"}'
    assert redact(r'{"p": "\\\u0038112189876"}') == r'{"p": "\\[redacted: 10 chars]"}'
    for kept in (r'{"p": "\\u0038112189876"}', r'{"q": "\u002d", "n": "\u00381121898761"}'):
        assert redact(kept) == kept
    assert redact_bytes(b'\xff{"p": "81121\\u0038-9876"}') == b'\xff{"p": "[redacted: 11 chars]"}'


def test_the_flag_viewer_prints_any_record_on_one_line() -> None:
    from streams.files.flagview import describe

    for value in (b'{"flag_id": 1}', b"[1, 2]", b'"x"', b"\xff\xfe", '{"reason": "x\u2028y"}'.encode(),
                  '{"a": "line\u2028break \u202eevil"}'.encode()):
        line = describe(value)
        assert "\u2028" not in line and "\u202e" not in line and "\n" not in line

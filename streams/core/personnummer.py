"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer):
recognised so that none is ever taken in as an identifier, and redacted wherever input is echoed.

A personnummer is YYMMDD-NNNC (or YYYYMMDD-NNNC), the separator `-`, `+` (aged 100 or more), a space (as
many write it) or none;
C is a Luhn check digit over the ten digits YYMMDDNNNC. A samordningsnummer is the same with 60 added
to the day. The date and the check digit are validated by python-stdnum (`stdnum.se.personnummer`);
the coordination number is brought to its date form first, since stdnum's module does not know it.

Found where a person wrote one, not inside other tokens: a candidate stands as its own token (no letter or
digit directly before or after it), the 12-digit form has a plausible birth year (from 130 years before the
current year to the current year, by the wall clock: processing time), and no part of a well-formed UUID is
one (its first two groups and its last are digit runs of the right lengths). A ULID or a hex digest is a
single token of letters and digits, so the token rule alone keeps them out.
"""

from __future__ import annotations

import functools
import re
import time

from stdnum import luhn
from stdnum.se import personnummer as stdnum_personnummer

#: The oldest plausible age: a 12-digit number whose year is further back is no living person's.
MAX_AGE_YEARS = 130

# A run of 6 or 8 digits, an optional separator (`-`, `+` or one space), 4 digits, standing as a token of
# its own (no letter or digit directly before or after; `[^\W_]` is a letter or a digit in any script),
# and neither the first two groups nor the last group of a UUID (8-4-4-4-12 hex digits).
_HEX = "[0-9A-Fa-f]"
_NOT_UUID_HEAD = f"(?!-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![0-9A-Za-z]))"
_NOT_UUID_TAIL = f"(?<!{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-)"
_NUMBER = r"(\d{6}|\d{8})([-+ ]?)(\d{4})"
_CANDIDATE = re.compile(rf"(?<![^\W_]){_NOT_UUID_TAIL}{_NUMBER}(?![^\W_]){_NOT_UUID_HEAD}")
# Where input is echoed (a dead letter's original, a message), the text may be JSON as sent: a letter
# directly before a run may be the end of an escape of something else (`\n`, `\u00e9`), so a run after an
# escape is a candidate too. A superset of `_CANDIDATE`'s runs: redaction is never weaker than recognition.
_AFTER_ESCAPE = r"(?<=\\[bfnrt])|(?<=\\u[0-9A-Fa-f]{4})"
_ECHOED = re.compile(rf"(?:(?<![^\W_])|{_AFTER_ESCAPE}){_NOT_UUID_TAIL}{_NUMBER}(?![^\W_]){_NOT_UUID_HEAD}")
_ECHOED_BYTES = re.compile(rf"(?:(?<![0-9A-Za-z])|{_AFTER_ESCAPE}){_NOT_UUID_TAIL}([0-9]{{6}}|[0-9]{{8}})"
                           rf"([-+ ]?)([0-9]{{4}})(?![0-9A-Za-z]){_NOT_UUID_HEAD}".encode())
# A cheap first look (a quarter of the time of the above on a typical line): ten digits, perhaps with a
# separator after the sixth; only a line that has one is looked at exactly.
_QUICK = re.compile(r"\d{6}[-+ \d]\d{3}")
# A JSON escape of a digit or a separator ("\u0038" is "8"), not itself escaped (an even number of backslashes
# before it): a number written with them is read as one, so it is looked for and redacted as one.
_ESCAPED = re.compile(r"(?<!\\)((?:\\\\)*)\\u00(3[0-9]|2[bBdD0])")
_ESCAPED_BYTES = re.compile(rb"(?<!\\)((?:\\\\)*)\\u00(3[0-9]|2[bBdD0])")


def has_escape(value: str | bytes) -> bool:
    """`value` holds a JSON `\\u` escape (which may write a digit or a separator)."""
    return (b"\\u" in value) if isinstance(value, bytes) else ("\\u" in value)


def _unescaped(text: str) -> str:
    """JSON escapes of digits and separators written as the characters (the same JSON)."""
    return _ESCAPED.sub(lambda m: m[1] + chr(int(m[2], 16)), text) if "\\u" in text else text


def _unescaped_bytes(data: bytes) -> bytes:
    return _ESCAPED_BYTES.sub(lambda m: m[1] + bytes([int(m[2], 16)]), data) if b"\\u" in data else data


def _as_date_form(date_digits: str) -> str:
    """YYMMDD / YYYYMMDD with a coordination number's day (61-91) brought back to 01-31."""
    day = int(date_digits[-2:])
    return date_digits[:-2] + f"{day - 60:02d}" if day > 60 else date_digits


def _stdnum_separator(separator: str) -> str:
    """The separator as stdnum reads it: `+` (aged 100 or more) or `-` (a space or none is `-`)."""
    return "+" if separator == "+" else "-"


def _date_is_valid(date_digits: str, separator: str) -> bool:
    probe = _as_date_form(date_digits) + _stdnum_separator(separator) + "0000"
    try:
        stdnum_personnummer.get_birth_date(probe)
    except Exception:  # stdnum's InvalidComponent, or a number it cannot read: not a date
        return False
    return True


def _is_number(date_digits: str, separator: str, tail: str) -> bool:
    """A valid date (or coordination date) and a valid check digit."""
    if not _date_is_valid(date_digits, separator):
        return False
    digits = date_digits[-6:] + tail
    if _as_date_form(date_digits) == date_digits:
        return bool(stdnum_personnummer.is_valid(date_digits + _stdnum_separator(separator) + tail))
    return bool(luhn.is_valid(digits))  # samordningsnummer: the check digit is over the digits as written


def plausible_birth_year(date_digits: str, this_year: int | None = None) -> bool:
    """A 12-digit number's year is one a living person was born in: not after `this_year` (the current
    year by the wall clock) and at most MAX_AGE_YEARS before it. A 10-digit number has no year of its own
    (its century follows from the separator), so it always has one."""
    if len(date_digits) != 8:
        return True
    year = time.gmtime().tm_year if this_year is None else this_year
    return year - MAX_AGE_YEARS <= int(date_digits[:4]) <= year


# For bytes, the cheap first look is cheaper still without a regular expression: every digit becomes "0"
# and a separator "1", and `_QUICK`'s two shapes are looked for as plain substrings (what `_QUICK` finds).
_SHAPES = bytes.maketrans(b"0123456789-+ ", b"0000000000111")
_TEN_DIGITS, _SIX_SEP_FOUR = b"0" * 10, b"0" * 6 + b"1" + b"0" * 3


def might_have_candidate(value: str | bytes) -> bool:
    """`has_candidate`'s cheap first look alone: False only where `has_candidate` is False."""
    if isinstance(value, bytes):
        shapes = value.translate(_SHAPES)
        return _TEN_DIGITS in shapes or _SIX_SEP_FOUR in shapes
    return _QUICK.search(value) is not None


def has_candidate(value: str | bytes) -> bool:
    """Some run of digits is shaped like a personnummer and placed like one, as written (JSON escapes
    included; see `_ECHOED`): a quick test before the exact ones, never missing what they would find."""
    if isinstance(value, bytes):
        shapes = value.translate(_SHAPES)
        if _TEN_DIGITS not in shapes and _SIX_SEP_FOUR not in shapes:
            return False
        return _ECHOED_BYTES.search(value) is not None
    return _QUICK.search(value) is not None and _ECHOED.search(value) is not None


#: Verdicts kept per id string: a person's id comes again with each of their events, and the full check
#: (stdnum's date and Luhn checks) costs more than decoding the event. Bounded in number, and only for
#: values as long as the contract's identifiers at most (free text, such as a note, is checked afresh).
VERDICTS_CACHED = 16_384
CACHED_LENGTH = 128


def is_personal_identity_number(value: str) -> bool:
    """The whole value is a personnummer or samordningsnummer (surrounding spaces ignored), in any written
    form: the strict check, with no plausibility of the year (what `person_id` must never be)."""
    return _is_whole_number(value) if len(value) <= CACHED_LENGTH else _is_whole_number.__wrapped__(value)


@functools.lru_cache(maxsize=VERDICTS_CACHED)
def _is_whole_number(value: str) -> bool:
    m = _WHOLE.fullmatch(value.strip())
    return m is not None and _is_number(m[1], m[2], m[3])


_WHOLE = re.compile(_NUMBER)


def contains_personal_identity_number(value: str) -> bool:
    """Some token inside `value` is a personnummer or samordningsnummer ("pnr-811218-9876", "x_8112189876"),
    but no run inside another token ("6c040625-2346..."), no 12-digit run with an implausible year and no part
    of a UUID."""
    if _QUICK.search(value) is None:  # nearly every identifier: no ten digits at all
        return False
    year = time.gmtime().tm_year
    return _contains(value, year) if len(value) <= CACHED_LENGTH else _contains.__wrapped__(value, year)


@functools.lru_cache(maxsize=VERDICTS_CACHED)
def _contains(value: str, this_year: int) -> bool:
    """`contains_personal_identity_number` in a given year (the plausible birth years move with it)."""
    return any(plausible_birth_year(m[1], this_year) and _is_number(m[1], m[2], m[3])
               for m in _CANDIDATE.finditer(value))


def redact(text: str) -> str:
    """Every run shaped and placed like a personnummer (`_ECHOED`) whose date is valid (check digit or not:
    a mistyped number is still a person's; any year: `person_id`'s strict check has none) becomes
    `[redacted: N chars]`; everything else is kept for debugging. A JSON escape of a digit or a separator is
    read as the character (`\\u0038112189876` is such a run): when something is redacted, such escapes are
    written as their characters (the same JSON)."""
    def replace(m: re.Match[str]) -> str:
        return f"[redacted: {len(m[0])} chars]" if _date_is_valid(m[1], m[2]) else m[0]

    plain = _unescaped(text)
    out = _ECHOED.sub(replace, plain)
    return out if out != plain else text


def redact_bytes(data: bytes) -> bytes:
    """`redact` for bytes that are not UTF-8 (digits and separators are ASCII in any encoding we see)."""
    def replace(m: re.Match[bytes]) -> bytes:
        date, sep = m[1].decode("ascii"), m[2].decode("ascii")
        return f"[redacted: {len(m[0])} chars]".encode() if _date_is_valid(date, sep) else m[0]

    plain = _unescaped_bytes(data)
    out = _ECHOED_BYTES.sub(replace, plain)
    return out if out != plain else data


# The name the decode has always used.
looks_like_personnummer = is_personal_identity_number

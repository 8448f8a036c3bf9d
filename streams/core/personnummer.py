"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer):
recognised so that none is ever taken in as an identifier, and redacted wherever input is echoed.

A personnummer is YYMMDD-NNNC (or YYYYMMDD-NNNC), the separator `-`, `+` (aged 100 or more), a space (as
many write it) or none;
C is a Luhn check digit over the ten digits YYMMDDNNNC. A samordningsnummer is the same with 60 added
to the day. The date and the check digit are validated by python-stdnum (`stdnum.se.personnummer`);
the coordination number is brought to its date form first, since stdnum's module does not know it.
"""

from __future__ import annotations

import re

from stdnum import luhn
from stdnum.se import personnummer as stdnum_personnummer

# A run of 6 or 8 digits, an optional separator (`-`, `+` or one space), 4 digits, with no digit directly
# before or after.
_CANDIDATE = re.compile(r"(?<!\d)(\d{6}|\d{8})([-+ ]?)(\d{4})(?!\d)")
_CANDIDATE_BYTES = re.compile(rb"(?<!\d)(\d{6}|\d{8})([-+ ]?)(\d{4})(?!\d)")
# A cheap first look (a quarter of the time of the above on a typical line): ten digits, perhaps with a
# separator after the sixth; only a line that has one is looked at exactly.
_QUICK = re.compile(r"[0-9]{6}[-+ 0-9][0-9]{3}")
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


# For bytes, the cheap first look is cheaper still without a regular expression: every digit becomes "0"
# and a separator "1", and `_QUICK`'s two shapes are looked for as plain substrings (what `_QUICK` finds).
_SHAPES = bytes.maketrans(b"0123456789-+ ", b"0000000000111")
_TEN_DIGITS, _SIX_SEP_FOUR = b"0" * 10, b"0" * 6 + b"1" + b"0" * 3


def has_candidate(value: str | bytes) -> bool:
    """Some run of digits is shaped like a personnummer (a quick test before the exact ones)."""
    if isinstance(value, bytes):
        shapes = value.translate(_SHAPES)
        if _TEN_DIGITS not in shapes and _SIX_SEP_FOUR not in shapes:
            return False
        return _CANDIDATE_BYTES.search(value) is not None
    return _QUICK.search(value) is not None and _CANDIDATE.search(value) is not None


def is_personal_identity_number(value: str) -> bool:
    """The whole value is a personnummer or samordningsnummer (surrounding spaces ignored)."""
    m = _CANDIDATE.fullmatch(value.strip())
    return m is not None and _is_number(m[1], m[2], m[3])


def contains_personal_identity_number(value: str) -> bool:
    """Some run of digits inside `value` is a personnummer or samordningsnummer ("pnr-811218-9876")."""
    return any(_is_number(m[1], m[2], m[3]) for m in _CANDIDATE.finditer(value))


def redact(text: str) -> str:
    """Every run shaped like a personnummer whose date is valid (check digit or not: a mistyped number
    is still a person's) becomes `[redacted: N chars]`; everything else is kept for debugging. A JSON
    escape of a digit or a separator is read as the character (`\\u0038112189876` is such a run): when
    something is redacted, such escapes are written as their characters (the same JSON)."""
    def replace(m: re.Match[str]) -> str:
        return f"[redacted: {len(m[0])} chars]" if _date_is_valid(m[1], m[2]) else m[0]

    plain = _unescaped(text)
    out = _CANDIDATE.sub(replace, plain)
    return out if out != plain else text


def redact_bytes(data: bytes) -> bytes:
    """`redact` for bytes that are not UTF-8 (digits and separators are ASCII in any encoding we see)."""
    def replace(m: re.Match[bytes]) -> bytes:
        date, sep = m[1].decode("ascii"), m[2].decode("ascii")
        return f"[redacted: {len(m[0])} chars]".encode() if _date_is_valid(date, sep) else m[0]

    plain = _unescaped_bytes(data)
    out = _CANDIDATE_BYTES.sub(replace, plain)
    return out if out != plain else data


# The name the decode has always used.
looks_like_personnummer = is_personal_identity_number

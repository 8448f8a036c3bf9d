"""Recognise a raw Swedish personal identity number, so that it is never taken in as a pseudonym."""

from __future__ import annotations

import re

# 10 or 12 digits, with the usual '-' or '+' before the last four.
_SHAPE = re.compile(r"^(\d{2})?(\d{6})[-+]?(\d{4})$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def looks_like_personnummer(value: str) -> bool:
    """True for a personnummer or samordningsnummer (day + 60) with a valid check digit.

    The check digit is computed over the ten digits YYMMDD-NNNC, also for the twelve-digit form.
    """
    m = _SHAPE.match(value.strip())
    if m is None:
        return False
    return luhn_valid(m.group(2) + m.group(3))

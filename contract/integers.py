"""Whole numbers written as text, read without surprises.

``str.isdigit()`` is true for "²" (a superscript), which ``int()`` refuses, and Python refuses
any text of more than 4,300 digits: both raised out of request handling as a 500. Here only
ASCII digits count, and a number longer than any schema here asks for stays text (its schema
then refuses it with a 400).
"""

from __future__ import annotations

import re

MAX_DIGITS = 300
_WHOLE = re.compile(rf"[+-]?[0-9]{{1,{MAX_DIGITS}}}", re.ASCII)
_WHOLE_WITH_ZERO_FRACTION = re.compile(rf"([+-]?[0-9]{{1,{MAX_DIGITS}}})(?:\.0*)?", re.ASCII)


def whole_number(text: str) -> int | None:
    """The integer ``text`` spells in ASCII digits (an optional sign), else None."""
    return int(text) if _WHOLE.fullmatch(text) else None


def whole_number_or_zero_fraction(text: str) -> int | None:
    """Like ``whole_number``, also reading ``12.0`` as 12 (a query parameter's integer may be written so)."""
    match = _WHOLE_WITH_ZERO_FRACTION.fullmatch(text)
    return int(match.group(1)) if match else None

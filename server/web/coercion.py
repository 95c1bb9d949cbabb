"""Text to the JSON value a schema names: path, query and header parameters, and XML bodies,
all arrive as text.

Each reading is total: text that is no valid value of the type (a number out of float range,
a 5,000-digit integer, "²") stays text, and the schema check that follows refuses it with a
400 that names the parameter, instead of a conversion error escaping as a 500.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from campaign_mock.contract.integers import whole_number, whole_number_or_zero_fraction


def finite_number(text: str) -> float | int | None:
    """A finite number ``text`` spells (``12`` stays an integer), else None."""
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    exact = whole_number(text)
    return exact if exact is not None else number


def coerce(text: str, types: Iterable[str], null_text: tuple[str, ...] = ("", "null")) -> Any:
    """The value ``text`` stands for, trying the JSON types its schema allows in order."""
    for json_type in types:
        if json_type == "integer":
            integer = whole_number_or_zero_fraction(text)
            if integer is not None:
                return integer
        elif json_type == "number":
            number = finite_number(text)
            if number is not None:
                return number
        elif json_type == "boolean" and text in ("true", "false"):
            return text == "true"
        elif json_type == "null" and text in null_text:
            return None
    return text

"""The verdict of a schema check from jsonschema-rs, the errors from jsonschema.

Validating with the Python ``jsonschema`` was about a quarter of a read's cost. jsonschema-rs
(Rust, Draft 2020-12, already installed with schemathesis) answers valid or not in a fraction
of that, so it decides every request; only a request it finds invalid goes through the Python
validator, which writes the errors exactly as before (pointer, field, reason) and has the last
word. That last word matters: jsonschema-rs knows more formats than jsonschema (the mock checks
jsonschema's, and ``date-time`` its own way), so where it is stricter the Python check accepts.

Where jsonschema-rs could be less strict, it is not asked: an integer a 64-bit float cannot
hold exactly (measured: ``10**5000`` passed a ``maximum: 5``), a value it cannot take (a lone
surrogate), a schema it cannot compile or one that refers into the spec by URI.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, ValidationError

from campaign_mock.contract.timefmt import is_timestamp

WIDEST_EXACT_INTEGER = 2**53  # beyond this, leave integers to the Python validator


def _refers_out(schema: Any) -> bool:
    if isinstance(schema, Mapping):
        reference = schema.get("$ref")
        if isinstance(reference, str) and not reference.startswith("#"):
            return True
        return any(_refers_out(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_refers_out(item) for item in schema)
    return False


def _exact_in_rust(value: Any) -> bool:
    """Whether jsonschema-rs judges ``value`` as Python does: no integer it would round."""
    if isinstance(value, dict):
        return all(_exact_in_rust(item) for item in value.values())
    if isinstance(value, list):
        return all(_exact_in_rust(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -WIDEST_EXACT_INTEGER <= value <= WIDEST_EXACT_INTEGER
    return True


def _compiled(schema: Mapping[str, Any]) -> Any:
    if _refers_out(schema):
        return None
    try:
        return jsonschema_rs.Draft202012Validator(
            dict(schema), validate_formats=True, formats={"date-time": is_timestamp}
        )
    except (ValueError, TypeError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError):
        return None


class FastValidator:
    """``is_valid`` from jsonschema-rs where it agrees with jsonschema, ``iter_errors`` from jsonschema."""

    def __init__(self, schema: Mapping[str, Any], python: Draft202012Validator) -> None:
        self._python = python
        self._rust = _compiled(schema)

    def is_valid(self, instance: Any) -> bool:
        rust = self._rust
        if rust is not None and _exact_in_rust(instance):
            try:
                if rust.is_valid(instance):
                    return True
            except (ValueError, TypeError, OverflowError, UnicodeError):
                pass  # a value it cannot take: the Python validator decides
        return bool(self._python.is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        return self._python.iter_errors(instance)

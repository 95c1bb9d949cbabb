"""jsonschema-rs decides, jsonschema has the last word: the verdict is the Python validator's."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from campaign_mock.server.web.fast_validation import FastValidator


def both(schema: dict[str, Any]) -> FastValidator:
    return FastValidator(schema, Draft202012Validator(schema))


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        pytest.param({"type": "integer", "maximum": 5}, 10**4000, id="a 4001-digit integer"),
        ({"type": "integer", "maximum": 5}, 2**60),
        ({"type": "object", "properties": {"n": {"type": "array", "items": {"maximum": 1}}}}, {"n": [0, 2**60]}),
        ({"type": "string", "maxLength": 1}, "\ud800\ud800"),  # jsonschema-rs cannot take it
    ],
)
def test_what_jsonschema_refuses_is_refused(schema: dict[str, Any], instance: Any) -> None:
    fast = both(schema)
    assert not Draft202012Validator(schema).is_valid(instance)
    assert not fast.is_valid(instance)


def test_a_format_only_jsonschema_rs_checks_is_accepted_as_before() -> None:
    fast = both({"type": "string", "format": "email"})
    assert fast.is_valid("not an email")  # the mock checks date-time only


def test_the_errors_are_jsonschemas_own() -> None:
    fast = both({"type": "object", "required": ["name"]})
    assert [error.message for error in fast.iter_errors({})] == ["'name' is a required property"]


def test_a_valid_instance_is_valid() -> None:
    fast = both({"type": "object", "properties": {"name": {"type": "string", "minLength": 1}}})
    assert fast.is_valid({"name": "Spring"})
    assert not fast.is_valid({"name": ""})

"""Every bundled spec carries named examples (``examples:`` with ``summary`` and ``value``) for
every JSON request body and every JSON response, errors included, and each one is valid.

Contract tools pick examples by name (Prism's ``Prefer: example=NAME``, Microcks' dispatch,
Specmatic's strict mode, which ran no test without them); an example that breaks its own
schema would teach those tools, and the people reading the spec, an answer the mock never
gives. Formats are checked too (``date-time``, ``uuid``), as a client's validator would.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from campaign_mock.contract.specs import bundled_names, bundled_path

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
BASE = "urn:test:spec"
STATUS_MEMBERS = ("status", "code", "error")  # where an error format writes the HTTP status


@functools.cache
def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(bundled_path(name).read_text())
    return document


def deref(document: Mapping[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` chains (``#/components/...``) to the object they name."""
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def is_json(media_type: str) -> bool:
    return media_type.split(";", maxsplit=1)[0].strip().endswith("json")


def json_media(document: Mapping[str, Any]) -> Iterator[tuple[str, str | None, str, Mapping[str, Any]]]:
    """(operation, response status or None for the request body, media type, media object)."""
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            name = f"{method.upper()} {path} ({operation.get('operationId')})"
            body = deref(document, operation.get("requestBody"))
            for media_type, media in ((body or {}).get("content") or {}).items():
                if is_json(media_type):
                    yield name, None, media_type, media
            for status, response in (operation.get("responses") or {}).items():
                for media_type, media in (deref(document, response).get("content") or {}).items():
                    if is_json(media_type):
                        yield name, str(status), media_type, media


def validator(document: Mapping[str, Any], schema: Any) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(BASE, DRAFT202012.create_resource(document))
    return Draft202012Validator(rebased(schema), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def rebased(schema: Any) -> Any:
    """The schema with its local ``$ref``s pointing into the document registered at BASE."""
    if isinstance(schema, Mapping):
        return {
            key: BASE + value if key == "$ref" and isinstance(value, str) and value.startswith("#") else rebased(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [rebased(item) for item in schema]
    return schema


def integer_status_members(document: Mapping[str, Any], schema: Any) -> set[str]:
    """The top-level members (of STATUS_MEMBERS) the schema types as integers, through allOf."""
    schema = deref(document, schema)
    found = set()
    for part in [schema, *(deref(document, each) for each in schema.get("allOf", []))]:
        for member, declared in (part.get("properties") or {}).items():
            spec = deref(document, declared)
            if member in STATUS_MEMBERS and (spec.get("type") == "integer" or isinstance(spec.get("const"), int)):
                found.add(member)
    return found


def test_every_bundled_spec_has_json_bodies_to_check() -> None:
    assert all(any(True for _ in json_media(load(name))) for name in bundled_names())


@pytest.mark.parametrize("name", bundled_names())
def test_every_json_body_has_named_examples_that_fit_its_schema(name: str) -> None:
    document = load(name)
    problems: list[str] = []
    for where, status, media_type, media in json_media(document):
        place = f"{where} {status or 'request'} {media_type}"
        examples = media.get("examples")
        if not isinstance(examples, Mapping) or not examples:
            problems.append(f"{place}: no named examples")
            continue
        if "example" in media:
            problems.append(f"{place}: 'example' and 'examples' exclude each other (OpenAPI 3.1)")
        check = validator(document, media["schema"])
        for example_name, named in examples.items():
            example = deref(document, named)
            if not isinstance(example.get("summary"), str) or not example["summary"]:
                problems.append(f"{place} {example_name}: no summary")
            if "value" not in example:
                problems.append(f"{place} {example_name}: no value")
                continue
            problems += [
                f"{place} {example_name} at /{'/'.join(map(str, error.absolute_path))}: {error.message}"
                for error in check.iter_errors(example["value"])
            ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", bundled_names())
def test_every_error_status_has_an_example_with_that_status(name: str) -> None:
    """An error component shared by several statuses carries one example per status it is used
    for, where the format writes the status into the body (problem, ocamba, altcraft, woodpecker)."""
    document = load(name)
    problems: list[str] = []
    for where, status, _, media in json_media(document):
        if status is None or not status.startswith(("4", "5")):
            continue
        members = integer_status_members(document, media["schema"])
        values = [deref(document, example).get("value") for example in (media.get("examples") or {}).values()]
        if members and not any(
            isinstance(value, Mapping) and any(value.get(member) == int(status) for member in members)
            for value in values
        ):
            problems.append(f"{where}: no example of the {status} body ({' or '.join(sorted(members))} = {status})")
    assert not problems, "\n".join(problems)


def test_the_check_refuses_an_example_that_breaks_a_format_or_a_local_ref() -> None:
    """The checker is live: a malformed date-time, and a value a referenced schema refuses."""
    document = load("campaigns")
    campaign = validator(document, {"$ref": "#/components/schemas/Campaign"})
    media = deref(document, document["components"]["responses"]["CampaignOk"])["content"]["application/json"]
    good = next(iter(media["examples"].values()))["value"]
    assert not list(campaign.iter_errors(good))
    assert list(campaign.iter_errors({**good, "created_at": "2026-11-23 12:00"}))
    assert list(campaign.iter_errors({**good, "status": "sleeping"}))

"""Requests that carry the campaign inside an envelope, as JSON:API vendors send them
(``{"data": {"type": "campaign", "attributes": {...}}}``): ``x-operation.request_envelope``
says where, the mock reads the members there, and the kit builds its bodies the same way."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from campaign_mock.conformance.runner import CheckRequest, run_check
from campaign_mock.contract.envelopes import unwrap, wrap
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.lifecycle import Copy
from campaign_mock.contract.lint import lint_source
from campaign_mock.contract.operations import parse_operations
from campaign_mock.contract.specs import SpecSource
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import CANONICAL_SPEC

KEY = "jsonapi-key"
ENVELOPE = {"data": {"type": "campaign", "attributes": "$campaign"}}


def _wrapped_schema(inner: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["type", "attributes"],
                "properties": {"type": {"const": "campaign"}, "attributes": inner},
            }
        },
    }


def jsonapi_document() -> dict[str, Any]:
    """The canonical contract with every request body wrapped as JSON:API wraps it."""
    document: dict[str, Any] = yaml.safe_load(CANONICAL_SPEC.read_text())
    bodies = document["components"].setdefault("requestBodies", {})
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            body = operation["requestBody"]
            if "$ref" in body:
                body = copy.deepcopy(bodies[body["$ref"].rsplit("/", 1)[1]])
            for media in body["content"].values():
                media["schema"] = _wrapped_schema(media["schema"])
                for example in (media.get("examples") or {}).values():
                    example["value"] = wrap(ENVELOPE, example["value"])
                if "example" in media:
                    media["example"] = wrap(ENVELOPE, media["example"])
            operation["requestBody"] = body
            operation["x-operation"] = {**operation["x-operation"], "request_envelope": ENVELOPE}
    return document


JSONAPI = "application/vnd.api+json"
RESOURCE = {"data": {"type": "campaign", "id": "$campaign.id", "attributes": "$campaign"}}
ITEM = {"type": "campaign", "id": "$campaign.id", "attributes": "$campaign"}


def _resource_schema(attributes: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "id", "attributes"],
        "properties": {
            "type": {"const": "campaign"},
            "id": {"$ref": "#/components/schemas/CampaignId"},
            "attributes": attributes,
        },
    }


def _as_jsonapi(media: dict[str, Any]) -> dict[str, Any]:
    """One success answer's content as JSON:API serves it: the campaign a resource, its type
    application/vnd.api+json (the examples, written for the flat layout, are left out)."""
    schema = media["application/json"]["schema"]
    if schema == {"$ref": "#/components/schemas/Campaign"}:
        schema = {"type": "object", "required": ["data"], "properties": {"data": _resource_schema(schema)}}
    elif schema == {"$ref": "#/components/schemas/CampaignPage"}:
        schema = copy.deepcopy(yaml.safe_load(CANONICAL_SPEC.read_text())["components"]["schemas"]["CampaignPage"])
        schema["properties"]["data"]["items"] = _resource_schema({"$ref": "#/components/schemas/Campaign"})
    return {JSONAPI: {"schema": schema}}


def jsonapi_everywhere() -> dict[str, Any]:
    """The JSON:API contract: requests wrapped, campaigns answered as resources (one, or one
    per item of a page), all in application/vnd.api+json."""
    document = jsonapi_document()
    responses = document["components"]["responses"]
    for name in ("CampaignOk", "TransitionOk"):
        responses[name]["content"] = _as_jsonapi(responses[name]["content"])
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "x-operation" not in operation:
                continue
            kind = operation["x-operation"]["kind"]
            for media in (operation.get("requestBody") or {}).get("content", {}).copy():
                operation["requestBody"]["content"][JSONAPI] = operation["requestBody"]["content"].pop(media)
            success = operation["responses"].get("201") or operation["responses"].get("200")
            if kind in ("create", "list") and success and "content" in success:
                success["content"] = _as_jsonapi(success["content"])
            if kind in ("create", "get", "update", "transition"):
                operation["x-operation"]["envelope"] = RESOURCE
            if kind == "list":
                operation["x-operation"]["item_envelope"] = ITEM
            if kind == "update":  # JSON:API names the resource it changes: data.id, the path's id
                operation["x-operation"]["request_envelope"] = {
                    "data": {"type": "campaign", "id": "$id", "attributes": "$campaign"}
                }
                data = operation["requestBody"]["content"][JSONAPI]["schema"]["properties"]["data"]
                data["required"].append("id")
                data["properties"]["id"] = {"$ref": "#/components/schemas/CampaignId"}
                for example in operation["requestBody"]["content"][JSONAPI].get("examples", {}).values():
                    example["value"]["data"]["id"] = "cmp_0f1e2d3c4b5a69788796"
    return document


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jsonapi") / "jsonapi.yaml"
    path.write_text(yaml.safe_dump(jsonapi_document(), sort_keys=False))
    return path


@pytest.fixture(scope="module")
def base(spec: Path) -> Iterator[str]:
    assembled = assemble(ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app, threads=8) as server:
        yield server.base_url


def test_the_mock_reads_the_members_where_the_request_envelope_puts_them(base: str) -> None:
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {KEY}"
        made = http.post(f"{base}/campaigns", json=wrap(ENVELOPE, {"name": "Wrapped", "goal": "sales"}), timeout=10)
        assert made.status_code == 201, made.text
        assert made.json()["name"] == "Wrapped"
        assert made.json()["goal"] == "sales"
        path = f"{base}/campaigns/{made.json()['id']}"
        changed = http.patch(path, json=wrap(ENVELOPE, {"name": "Renamed"}), timeout=10)
        assert changed.json()["name"] == "Renamed"
        flat = http.post(f"{base}/campaigns", json={"name": "Flat"}, timeout=10)
        assert flat.status_code in (400, 422), "a body without the envelope breaks the request schema"
        moved = http.post(f"{path}/activate", json=wrap(ENVELOPE, {"reason": "Launch"}), timeout=10)
        events = http.get(f"{path}/events", timeout=10).json()["data"]
    assert moved.json()["status"] == "active"
    assert events[-1]["reason"] == "Launch"


def test_the_kit_builds_its_bodies_in_the_envelope_and_finds_the_mock_conformant(spec: Path, base: str) -> None:
    request = CheckRequest(
        spec=str(spec), base_url=base, api_key=KEY, only=("lifecycle", "updates", "listing", "headers", "errors")
    )
    report = run_check(request, progress=lambda line: None)
    assert report.conformant, [(o.rule, o.operation, o.expected, o.received[:200]) for o in report.failures][:5]
    judged = {o.rule for group in report.groups for o in group.outcomes if str(o.verdict) == "passed"}
    assert {"lifecycle.allowed-move", "lifecycle.create", "lifecycle.event-recorded"} <= judged


def test_an_envelope_without_its_place_for_the_campaign_is_refused() -> None:
    document = jsonapi_document()
    document["paths"]["/campaigns"]["post"]["x-operation"]["request_envelope"] = {"data": {"type": "campaign"}}
    with pytest.raises(ContractError, match="request_envelope"):
        parse_operations(document)


def test_wrap_and_unwrap_are_inverse() -> None:
    members = {"name": "x", "settings": {"daily_limit": 5}}
    assert unwrap(ENVELOPE, wrap(ENVELOPE, members)) == members
    assert unwrap(None, members) == members


def test_a_json_api_contract_is_served_and_judged_as_json_api(tmp_path: Path) -> None:
    spec = tmp_path / "jsonapi-everywhere.yaml"
    spec.write_text(yaml.safe_dump(jsonapi_everywhere(), sort_keys=False))
    assembled = assemble(ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app, threads=8) as server, requests.Session() as http:
        http.headers.update({"Authorization": f"Bearer {KEY}", "Content-Type": JSONAPI})
        body = json.dumps(wrap(ENVELOPE, {"name": "Resource"}))
        made = http.post(f"{server.base_url}/campaigns", data=body, timeout=10)
        listed = http.get(f"{server.base_url}/campaigns", timeout=10)
        request = CheckRequest(
            spec=str(spec),
            base_url=server.base_url,
            api_key=KEY,
            only=("schema", "lifecycle", "updates", "listing", "headers"),
            max_examples=5,
        )
        report = run_check(request, progress=lambda line: None)
    assert made.status_code == 201, made.text
    assert made.headers["Content-Type"] == JSONAPI
    resource = made.json()["data"]
    assert (resource["type"], resource["attributes"]["name"]) == ("campaign", "Resource")
    assert resource["id"] == resource["attributes"]["id"]
    assert listed.json()["data"][0]["type"] == "campaign"
    assert report.conformant, [(o.rule, o.operation, o.expected, o.received[:200]) for o in report.failures][:5]


def test_lint_names_an_unreadable_request_envelope_at_its_operation(tmp_path: Path) -> None:
    document = jsonapi_document()
    document["paths"]["/campaigns"]["post"]["x-operation"]["request_envelope"] = {"data": "$campaign.name"}
    spec = tmp_path / "bad-envelope.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    findings = lint_source(SpecSource(str(spec), spec.read_text()))
    assert [finding.rule for finding in findings] == ["operation-invalid"]
    assert "request_envelope" in findings[0].message
    assert findings[0].line > 1


def test_a_copy_names_its_members_from_the_request_or_the_source() -> None:
    copy_rule = Copy("clone", None, {"name": "{new_name}", "title": "Copy of {name}", "kept": "{absent}"})
    values = copy_rule.reset_values({"name": "Spring"}, {"new_name": "Autumn"})
    assert values == {"name": "Autumn", "title": "Copy of Spring", "kept": "{absent}"}
    assert copy_rule.named_in_reset() == {"new_name", "name", "absent"}

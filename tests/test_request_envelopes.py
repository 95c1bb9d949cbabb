"""Requests that carry the campaign inside an envelope, as JSON:API vendors send them
(``{"data": {"type": "campaign", "attributes": {...}}}``): ``x-operation.request_envelope``
says where, the mock reads the members there, and the kit builds its bodies the same way."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from campaign_mock.conformance.runner import CheckRequest, run_check
from campaign_mock.contract.envelopes import unwrap, wrap
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.operations import parse_operations
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

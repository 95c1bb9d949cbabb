"""Security defaults: a key means what it says or the start is refused; credentials never
leave the mock in the clear; every credential a request carries must be right."""

from __future__ import annotations

import json

import falcon.testing
import pytest

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.traffic.redaction import Redactor, mask
from tests.cli_process import run_cli, serving
from tests.conftest import local_client

LONG_KEY = "sk-live-0123456789abcdef"


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api-key", "ro#view"], "names no scopes in its security requirements"),
        (["--spec", "altcraft", "--api-key", "k#viwe"], "unknown scope(s) viwe"),
        (["--spec", "tenant", "--api-key", "team-key"], "write team-key@WORKSPACE"),
    ],
    ids=["scopes on a spec without any", "an unknown scope", "a tenant key without its workspace"],
)
def test_a_key_the_contract_would_misread_is_refused_at_start(args: list[str], message: str) -> None:
    result = run_cli("serve", "--port", "0", *args)
    assert result.returncode == 2
    assert message in one_line(result.stderr)


def client(spec: str, *keys: str) -> falcon.testing.TestClient:
    return local_client(assemble(ServeSettings(spec=spec, api_keys=list(keys), log_requests=False)).app)


def last_entry(mock: falcon.testing.TestClient) -> dict[str, object]:
    entry: dict[str, object] = mock.simulate_get("/__admin/journal", query_string="limit=1").json["data"][0]
    return entry


def test_the_journal_masks_a_bearer_key_keeping_its_last_four_characters() -> None:
    mock = client("campaigns", LONG_KEY)
    mock.simulate_get("/campaigns", headers={"Authorization": f"Bearer {LONG_KEY}"})
    entry = last_entry(mock)
    assert LONG_KEY not in json.dumps(entry)
    assert entry["headers"] == {**entry["headers"], "AUTHORIZATION": "Bearer ****cdef"}  # type: ignore[dict-item]


def test_the_journal_masks_an_api_key_header() -> None:
    mock = client("woodpecker", LONG_KEY)
    mock.simulate_get("/rest/v2/campaigns/nope", headers={"x-api-key": LONG_KEY})
    assert LONG_KEY not in json.dumps(last_entry(mock))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"token": LONG_KEY, "name": "x"}).encode(), "application/json"),
        (f"<xml><token>{LONG_KEY}</token><name>x</name></xml>".encode(), "application/xml"),
    ],
    ids=["json", "xml"],
)
def test_the_journal_masks_a_token_in_the_body(body: bytes, content_type: str) -> None:
    mock = client("altcraft", f"{LONG_KEY}#view,run")
    mock.simulate_post("/api/v1.1/scampaigns/add", body=body, headers={"Content-Type": content_type})
    entry = last_entry(mock)
    assert LONG_KEY not in json.dumps(entry)
    assert "****cdef" in str(entry["body"])


def test_a_key_in_the_query_is_masked() -> None:
    redactor = Redactor.for_document(
        {"components": {"securitySchemes": {"k": {"type": "apiKey", "in": "query", "name": "api_key"}}}}
    )
    assert redactor.query_string(f"status=active&api_key={LONG_KEY}") == "status=active&api_key=%2A%2A%2A%2Acdef"
    assert mask("short") == "****(5 chars, sha256 f9b007)"  # no tail of a short key; its fingerprint


def test_the_admin_config_shows_no_key() -> None:
    mock = local_client(
        assemble(ServeSettings(api_keys=[LONG_KEY], admin_key="admin-secret-key", log_requests=False)).app
    )
    described = mock.simulate_get("/__admin/config", headers={"Authorization": "Bearer admin-secret-key"})
    assert described.status_code == 200
    assert LONG_KEY not in described.text
    assert "admin-secret-key" not in described.text


def test_the_start_up_banner_masks_configured_keys() -> None:
    with serving("--api-key", LONG_KEY, "--no-request-log") as served:
        served.interrupt()
    banner = "\n".join(served.banner)
    assert LONG_KEY not in banner
    assert "****cdef" in banner


@pytest.mark.parametrize(
    ("body_token", "bearer"),
    [("wrong-token", "demo-key"), ("demo-key", "wrong-token")],
    ids=["wrong in the body, right in the header", "right in the body, wrong in the header"],
)
def test_a_wrong_credential_beside_a_right_one_is_refused(body_token: str, bearer: str) -> None:
    mock = client("altcraft")
    answer = mock.simulate_post(
        "/api/v1.1/scampaigns/list", json={"token": body_token}, headers={"Authorization": f"Bearer {bearer}"}
    )
    assert answer.status_code == 401
    assert answer.json["error"] == 401

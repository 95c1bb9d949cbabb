"""What the mock says about itself is true: the served specs document every answer it sends,
in the shape it sends it, and answers carry the media type their body has (none without one)."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest
import requests
import yaml
from jsonschema import Draft202012Validator

from campaign_mock.contract.operations import resolve
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import AUTH, create, local_client


def mock(**settings: Any) -> falcon.testing.TestClient:
    return local_client(assemble(ServeSettings(log_requests=False, **settings)).app)


def served(client: falcon.testing.TestClient, path: str = "/openapi.yaml") -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(client.simulate_get(path).text)
    return document


def test_an_answer_without_a_body_has_no_content_type() -> None:
    """Over real HTTP: wsgiref's validator (inside falcon.testing) insists on a Content-Type
    for every answer; RFC 9110 asks for one only where there is content."""
    assembled = assemble(ServeSettings(spec="woodpecker", log_requests=False))
    key = {"x-api-key": "demo-key"}
    with ThreadedServer(assembled.app) as server:
        base = server.base_url + assembled.contract.base_path
        created = requests.post(f"{base}/campaigns", json={"name": "Q1"}, headers=key, timeout=5).json()
        ran = requests.post(f"{base}/campaigns/{created['id']}/run", headers=key, timeout=5)
        options = requests.options(f"{base}/campaigns", headers=key, timeout=5)
    assert (ran.status_code, ran.content) == (200, b"")
    assert "Content-Type" not in ran.headers
    assert options.status_code == 200
    assert "Content-Type" not in options.headers


def test_head_is_served_wherever_get_is(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    read = client.simulate_get(f"/campaigns/{campaign['id']}", headers=AUTH)
    head = client.simulate_head(f"/campaigns/{campaign['id']}", headers=AUTH)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(read.content))
    assert head.headers["etag"] == read.headers["etag"]


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/campaigns", "post", {"405", "408", "413", "414", "415", "431", "507"}),
        ("/campaigns/{campaign_id}", "get", {"405", "414", "431"}),
        ("/campaigns/{campaign_id}/pause", "post", {"405", "408", "413", "414", "415", "431", "507"}),
    ],
)
def test_the_served_spec_documents_the_servers_own_answers(path: str, method: str, statuses: set[str]) -> None:
    document = served(mock())
    responses = document["paths"][path][method]["responses"]
    assert statuses <= set(responses), sorted(statuses - set(responses))
    for status in statuses:
        target, _ = resolve(document, responses[status], "")
        assert "application/problem+json" in target["content"], status


def test_a_412_answer_matches_the_schema_the_spec_documents_for_it(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    refused = client.simulate_post(f"/campaigns/{campaign['id']}/activate", headers={**AUTH, "If-Match": '"99"'})
    assert refused.status_code == 412
    document = served(client)
    response, _ = resolve(
        document, document["paths"]["/campaigns/{campaign_id}/activate"]["post"]["responses"]["412"], ""
    )
    schema, _ = resolve(document, response["content"]["application/problem+json"]["schema"], "")
    resolved = {**schema, "components": document["components"]}
    Draft202012Validator(resolved).validate(refused.json)
    assert "current_etag" in str(schema) or "PreconditionProblem" in str(response)


def test_a_vendor_whose_errors_differ_by_status_documents_each_status_with_its_own_shape() -> None:
    """Woodpecker's 404 has another shape than its 400 or 429: the served 429 and 408 are the
    default shape alone (they used to be an anyOf of all four), its 404 stays its own."""
    document = served(mock(spec="woodpecker"))
    create = document["paths"]["/campaigns"]["post"]["responses"]
    get = document["paths"]["/campaigns/{campaign_id}"]["get"]["responses"]
    for status in ("429", "408"):  # answers the server adds to the vendor's contract
        target, _ = resolve(document, create[status], "")
        schema = target["content"]["application/json"]["schema"]
        assert "anyOf" not in schema, status
        assert set(schema["required"]) == {"title", "status", "detail", "timestamp"}, status
    not_found, _ = resolve(document, get["404"], "")
    assert not_found["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NotFoundError"}


@pytest.mark.parametrize(("admin_key", "security"), [(None, [{}]), ("admin-secret", [{"adminKey": []}])])
def test_the_served_admin_spec_says_whether_its_key_is_needed(admin_key: str | None, security: list[Any]) -> None:
    client = mock(admin_key=admin_key)
    document = served(client, "/__admin/openapi.yaml")
    assert document["security"] == security
    assert "application/problem+json" in document["components"]["responses"]["Error"]["content"]
    refused = client.simulate_get("/__admin/clock", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == (401 if admin_key else 200)
    if admin_key:
        assert refused.headers["content-type"] == "application/problem+json"


def test_altcraft_activate_with_a_future_start_date_waits_until_then() -> None:
    client = mock(spec="altcraft", clock_start="2026-12-01T09:00:00Z", freeze_clock=True)
    base, token = "/api/v1.1/scampaigns", {"token": "demo-key"}
    client.simulate_post(f"{base}/add", json={**token, "name": "Winter sale"})
    client.simulate_post(f"{base}/activate", json={**token, "id": 1, "start_date": "2026-12-24T00:00:00Z"})
    waiting = client.simulate_post(f"{base}/get", json={**token, "id": 1}).json["data"]
    client.simulate_put("/__admin/clock", json={"now": "2026-12-24T00:00:01Z"})
    started = client.simulate_post(f"{base}/get", json={**token, "id": 1}).json["data"]
    assert (waiting["status"], waiting["start_date"]) == ("waiting", "2026-12-24T00:00:00Z")
    assert started["status"] == "active"

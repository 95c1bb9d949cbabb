"""Every bad input gets a clear 4xx in the configured error format, never a 500."""

from __future__ import annotations

import falcon.testing
import pytest

from tests.conftest import AUTH, KEY, ClientFactory, create

PROBLEM = "application/problem+json"


def assert_problem(result: falcon.testing.Result, status: int) -> dict[str, object]:
    assert result.status_code == status, result.text
    assert result.headers["content-type"] == PROBLEM
    body: dict[str, object] = result.json
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Missing credentials"),
        ({"Authorization": "Bearer wrong"}, "Unknown API key"),
        ({"Authorization": f"Basic {KEY}"}, "Malformed Authorization"),
        ({"Authorization": "Bearer "}, "Malformed Authorization"),
    ],
)
def test_missing_wrong_or_malformed_credentials_answer_401_with_a_challenge(
    client: falcon.testing.TestClient, headers: dict[str, str], detail: str
) -> None:
    result = client.simulate_get("/campaigns", headers=headers)
    body = assert_problem(result, 401)
    assert result.headers["www-authenticate"].startswith('Bearer realm="campaign-mock"')
    assert detail in str(body["detail"])


def test_the_bearer_scheme_name_is_case_insensitive(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/campaigns", headers={"Authorization": f"bearer {KEY}"}).status_code == 200


def test_malformed_json_answers_400_saying_where(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/campaigns", body='{"name": ', headers={**AUTH, "Content-Type": "application/json"})
    body = assert_problem(result, 400)
    assert "line 1 column" in str(body["detail"])


@pytest.mark.parametrize("raw", [b'{"name": "\xff"}', b'{"name": NaN}', b"[" * 100_000])
def test_unreadable_bodies_answer_400(client: falcon.testing.TestClient, raw: bytes) -> None:
    result = client.simulate_post("/campaigns", body=raw, headers={**AUTH, "Content-Type": "application/json"})
    assert_problem(result, 400)


def test_a_schema_violation_answers_422_naming_each_field(client: falcon.testing.TestClient) -> None:
    body = {"name": "", "goal": "fame", "settings": {"daily_limit": 0}}
    problem = assert_problem(client.simulate_post("/campaigns", json=body, headers=AUTH), 422)
    errors = problem["errors"]
    assert isinstance(errors, list)
    assert {error["name"] for error in errors} == {"name", "goal", "settings"}
    assert {error["pointer"] for error in errors} == {"/name", "/goal", "/settings/daily_limit"}


def test_a_missing_required_field_is_named(client: falcon.testing.TestClient) -> None:
    problem = assert_problem(client.simulate_post("/campaigns", json={"goal": "sales"}, headers=AUTH), 422)
    assert problem["errors"] == [
        {"in": "body", "name": "name", "pointer": "", "detail": "'name' is a required property"}
    ]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("status=lost", "status"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_invalid_query_parameters_answer_400_naming_the_parameter(
    client: falcon.testing.TestClient, query: str, name: str
) -> None:
    problem = assert_problem(client.simulate_get("/campaigns", query_string=query, headers=AUTH), 400)
    assert f"query parameter {name}" in str(problem["detail"])


def test_an_id_of_absurd_length_answers_400(client: falcon.testing.TestClient) -> None:
    problem = assert_problem(client.simulate_get("/campaigns/" + "x" * 5000, headers=AUTH), 400)
    assert "path parameter campaign_id" in str(problem["detail"])


def test_a_wrong_content_type_answers_415_saying_what_to_send(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/campaigns", body='{"name": "x"}', headers={**AUTH, "Content-Type": "text/plain"})
    problem = assert_problem(result, 415)
    assert "application/json" in str(problem["detail"])
    no_type = client.simulate_post("/campaigns", body='{"name": "x"}', headers=AUTH)
    assert_problem(no_type, 415)


def test_a_missing_required_body_answers_400(client: falcon.testing.TestClient) -> None:
    assert_problem(client.simulate_post("/campaigns", headers=AUTH), 400)


def test_an_oversized_body_answers_413_and_creates_nothing(make_client: ClientFactory) -> None:
    client = make_client(max_body_bytes=100)
    result = client.simulate_post("/campaigns", json={"name": "x" * 200}, headers=AUTH)
    assert_problem(result, 413)
    assert client.simulate_get("/campaigns", headers=AUTH).json["pagination"]["total"] == 0


def test_an_unknown_route_answers_404_in_the_error_format(client: falcon.testing.TestClient) -> None:
    problem = assert_problem(client.simulate_get("/nowhere", headers=AUTH), 404)
    assert "/openapi.yaml" in str(problem["detail"])


def test_an_unsupported_method_answers_405_with_allow(client: falcon.testing.TestClient) -> None:
    result = client.simulate_request("TRACE", "/campaigns", headers=AUTH)
    assert_problem(result, 405)
    assert result.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_transitions_accept_an_optional_reason_only(client: falcon.testing.TestClient) -> None:
    campaign_id = create(client)["id"]
    result = client.simulate_post(f"/campaigns/{campaign_id}/activate", json={"why": "x"}, headers=AUTH)
    assert_problem(result, 422)
    assert client.simulate_get(f"/campaigns/{campaign_id}", headers=AUTH).json["status"] == "draft"

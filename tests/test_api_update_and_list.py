"""PATCH is a JSON merge patch with state rules; listing filters and pages correctly."""

from __future__ import annotations

import falcon.testing

from tests.conftest import AUTH, create

MERGE_PATCH = {**AUTH, "Content-Type": "application/merge-patch+json"}


def patch(client: falcon.testing.TestClient, campaign_id: str, body: object) -> falcon.testing.Result:
    return client.simulate_patch(f"/campaigns/{campaign_id}", json=body, headers=MERGE_PATCH)


def test_patch_merges_settings_key_by_key_and_replaces_the_sequence(client: falcon.testing.TestClient) -> None:
    campaign = create(client, sequence=[{"step": 1, "type": "email", "subject": "Hi"}])
    result = patch(client, campaign["id"], {"name": "Renamed", "settings": {"daily_limit": 100}, "sequence": []})
    assert result.status_code == 200, result.text
    assert result.json["name"] == "Renamed"
    assert result.json["settings"] == {"daily_limit": 100, "track_opens": True}
    assert result.json["sequence"] == []
    assert result.json["status"] == "draft"


def test_patch_null_clears_a_nullable_field(client: falcon.testing.TestClient) -> None:
    campaign = create(client, goal="sales")
    assert patch(client, campaign["id"], {"goal": None}).json["goal"] is None


def test_patch_is_accepted_as_plain_json_too(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    result = client.simulate_patch(f"/campaigns/{campaign['id']}", json={"name": "Plain"}, headers=AUTH)
    assert result.status_code == 200
    assert result.json["name"] == "Plain"


def test_patch_cannot_touch_status_or_unknown_fields(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    result = patch(client, campaign["id"], {"status": "active"})
    assert result.status_code == 422
    assert result.json["errors"][0]["name"] == "status"
    assert client.simulate_get(f"/campaigns/{campaign['id']}", headers=AUTH).json["status"] == "draft"


def test_patch_of_a_terminal_campaign_answers_409(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    client.simulate_post(f"/campaigns/{campaign['id']}/cancel", headers=AUTH)
    result = patch(client, campaign["id"], {"name": "Too late"})
    assert result.status_code == 409
    assert result.json["current_status"] == "canceled"
    assert client.simulate_get(f"/campaigns/{campaign['id']}", headers=AUTH).json["name"] == "Launch"


def test_times_out_of_order_are_422_in_one_body_and_409_against_stored_ones(
    client: falcon.testing.TestClient,
) -> None:
    rejected = client.simulate_post(
        "/campaigns",
        json={"name": "x", "start_at": "2027-01-02T00:00:00Z", "end_at": "2027-01-01T00:00:00Z"},
        headers=AUTH,
    )
    assert rejected.status_code == 422
    assert rejected.json["errors"][0]["name"] == "end_at"

    campaign = create(client, start_at="2027-01-02T00:00:00Z")
    conflict = patch(client, campaign["id"], {"end_at": "2027-01-01T00:00:00Z"})
    assert conflict.status_code == 409
    assert "end_at" in conflict.json["detail"]


def test_a_scheduled_campaign_cannot_lose_the_start_it_waits_on(client: falcon.testing.TestClient) -> None:
    campaign = create(client, start_at="2027-01-02T00:00:00Z")
    client.simulate_post(f"/campaigns/{campaign['id']}/activate", headers=AUTH)
    result = patch(client, campaign["id"], {"start_at": None})
    assert result.status_code == 409
    assert result.json["current_status"] == "scheduled"


def test_timestamps_are_answered_in_utc(client: falcon.testing.TestClient) -> None:
    campaign = create(client, start_at="2027-01-02T02:30:00+02:30")
    assert campaign["start_at"] == "2027-01-02T00:00:00Z"


def test_list_filters_by_one_or_several_statuses_in_creation_order(client: falcon.testing.TestClient) -> None:
    ids = [create(client, name=f"c{n}")["id"] for n in range(5)]
    client.simulate_post(f"/campaigns/{ids[1]}/activate", headers=AUTH)
    client.simulate_post(f"/campaigns/{ids[3]}/cancel", headers=AUTH)
    active = client.simulate_get("/campaigns", params={"status": "active"}, headers=AUTH).json
    assert [c["id"] for c in active["data"]] == [ids[1]]
    several = client.simulate_get("/campaigns", query_string="status=active&status=canceled", headers=AUTH).json
    assert [c["id"] for c in several["data"]] == [ids[1], ids[3]]
    assert several["pagination"]["total"] == 2


def test_limit_and_offset_page_with_total_and_has_more(client: falcon.testing.TestClient) -> None:
    ids = [create(client, name=f"c{n}")["id"] for n in range(5)]
    first = client.simulate_get("/campaigns", params={"limit": 2}, headers=AUTH).json
    assert [c["id"] for c in first["data"]] == ids[:2]
    assert first["pagination"] == {"total": 5, "limit": 2, "offset": 0, "has_more": True}
    last = client.simulate_get("/campaigns", params={"limit": 2, "offset": 4}, headers=AUTH).json
    assert [c["id"] for c in last["data"]] == ids[4:]
    assert last["pagination"] == {"total": 5, "limit": 2, "offset": 4, "has_more": False}
    assert client.simulate_get("/campaigns", headers=AUTH).json["pagination"]["limit"] == 20

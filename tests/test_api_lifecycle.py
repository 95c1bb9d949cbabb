"""The mock keeps each campaign's state by the spec's lifecycle, through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

import falcon.testing

from campaign_mock.server.domain.clock import ControllableClock
from tests.conftest import AUTH, START, create


def act(client: falcon.testing.TestClient, campaign_id: str, action: str, **body: str) -> falcon.testing.Result:
    return client.simulate_post(f"/campaigns/{campaign_id}/{action}", json=body or None, headers=AUTH)


def test_create_answers_201_with_location_and_a_draft_with_defaults(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/campaigns", json={"name": "Q4 Outreach", "goal": "sales"}, headers=AUTH)
    assert result.status_code == 201
    campaign = result.json
    assert result.headers["location"] == f"/campaigns/{campaign['id']}"
    assert campaign["status"] == "draft"
    assert campaign["goal"] == "sales"
    assert campaign["settings"] == {"daily_limit": 50, "track_opens": True}
    assert campaign["sequence"] == []
    assert campaign["start_at"] is None
    assert campaign["end_at"] is None
    assert campaign["created_at"] == campaign["updated_at"] == "2026-11-23T12:00:00Z"
    assert client.simulate_get(result.headers["location"], headers=AUTH).json == campaign


def test_a_whole_lifecycle_moves_as_the_spec_says(client: falcon.testing.TestClient) -> None:
    campaign_id = create(client)["id"]
    for action, expected in [("activate", "active"), ("pause", "paused"), ("resume", "active"), ("cancel", "canceled")]:
        result = act(client, campaign_id, action)
        assert result.status_code == 200, result.text
        assert result.json["status"] == expected
        assert client.simulate_get(f"/campaigns/{campaign_id}", headers=AUTH).json["status"] == expected


def test_a_forbidden_move_answers_409_naming_the_current_status_and_allowed_actions(
    client: falcon.testing.TestClient,
) -> None:
    campaign_id = create(client)["id"]
    act(client, campaign_id, "activate")
    act(client, campaign_id, "cancel")
    result = act(client, campaign_id, "resume")
    assert result.status_code == 409
    assert result.headers["content-type"] == "application/problem+json"
    problem = result.json
    assert problem["status"] == 409
    assert problem["current_status"] == "canceled"
    assert problem["allowed_actions"] == []
    assert "canceled" in problem["detail"]

    draft_id = create(client)["id"]
    problem = act(client, draft_id, "pause").json
    assert problem["current_status"] == "draft"
    assert problem["allowed_actions"] == ["activate", "cancel"]


def test_a_forbidden_move_changes_nothing(client: falcon.testing.TestClient) -> None:
    campaign = create(client)
    act(client, campaign["id"], "complete")
    assert client.simulate_get(f"/campaigns/{campaign['id']}", headers=AUTH).json == campaign
    assert client.simulate_get(f"/campaigns/{campaign['id']}/events", headers=AUTH).json["data"] == []


def test_terminal_states_never_move_again(client: falcon.testing.TestClient) -> None:
    completed = create(client)["id"]
    act(client, completed, "activate")
    assert act(client, completed, "complete").json["status"] == "completed"
    for action in ("activate", "pause", "resume", "cancel", "complete"):
        assert act(client, completed, action).status_code == 409


def test_events_record_every_move_with_its_reason_oldest_first(
    client: falcon.testing.TestClient, clock: ControllableClock
) -> None:
    campaign_id = create(client)["id"]
    act(client, campaign_id, "activate")
    clock.advance(timedelta(minutes=5))
    act(client, campaign_id, "pause", reason="Budget review")
    events = client.simulate_get(f"/campaigns/{campaign_id}/events", headers=AUTH).json["data"]
    assert events == [
        {"action": "activate", "from": "draft", "to": "active", "reason": None, "at": "2026-11-23T12:00:00Z"},
        {"action": "pause", "from": "active", "to": "paused", "reason": "Budget review", "at": "2026-11-23T12:05:00Z"},
    ]


def test_activate_with_a_future_start_schedules_and_the_clock_starts_and_ends_it(
    client: falcon.testing.TestClient, clock: ControllableClock
) -> None:
    start, end = START + timedelta(hours=1), START + timedelta(hours=3)
    campaign_id = create(client, start_at=start.isoformat(), end_at=end.isoformat())["id"]
    assert act(client, campaign_id, "activate").json["status"] == "scheduled"

    clock.advance(timedelta(minutes=59))
    assert client.simulate_get(f"/campaigns/{campaign_id}", headers=AUTH).json["status"] == "scheduled"
    clock.advance(timedelta(minutes=1))
    assert client.simulate_get(f"/campaigns/{campaign_id}", headers=AUTH).json["status"] == "active"
    clock.advance(timedelta(hours=2))
    listed = client.simulate_get("/campaigns", params={"status": "completed"}, headers=AUTH).json
    assert [item["id"] for item in listed["data"]] == [campaign_id]

    events = client.simulate_get(f"/campaigns/{campaign_id}/events", headers=AUTH).json["data"]
    assert [(e["action"], e["from"], e["to"], e["at"]) for e in events] == [
        ("activate", "draft", "scheduled", "2026-11-23T12:00:00Z"),
        ("start", "scheduled", "active", "2026-11-23T13:00:00Z"),
        ("end", "active", "completed", "2026-11-23T15:00:00Z"),
    ]


def test_delete_answers_204_then_404_everywhere(client: falcon.testing.TestClient) -> None:
    campaign_id = create(client)["id"]
    result = client.simulate_delete(f"/campaigns/{campaign_id}", headers=AUTH)
    assert result.status_code == 204
    assert result.content == b""
    for path in (f"/campaigns/{campaign_id}", f"/campaigns/{campaign_id}/events"):
        missing = client.simulate_get(path, headers=AUTH)
        assert missing.status_code == 404
        assert missing.json["detail"] == f"No campaign with id {campaign_id!r}."
    assert act(client, campaign_id, "activate").status_code == 404
    assert client.simulate_delete(f"/campaigns/{campaign_id}", headers=AUTH).status_code == 404

"""Every admin endpoint over HTTP, through the pytest plugin users get (``campaign_mock``)."""

from __future__ import annotations

import time

import pytest
import requests

from campaign_mock.server.admin_client import AdminClient, AdminError
from campaign_mock.server.pytest_plugin import RunningMock
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.traffic.redaction import mask
from tests.conftest import create_over_http

HOUR = 3600


def test_the_frozen_clock_drives_scheduled_to_active_to_completed(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    admin, base = campaign_mock.admin, campaign_mock.base_url
    assert admin.set_clock(now="2026-12-01T09:00:00Z", frozen=True) == {"now": "2026-12-01T09:00:00Z", "frozen": True}
    campaign = create_over_http(http, base, start_at="2026-12-01T10:00:00Z", end_at="2026-12-01T12:00:00Z")
    url = f"{base}/campaigns/{campaign['id']}"
    assert http.post(f"{url}/activate", timeout=10).json()["status"] == "scheduled"
    assert http.get(url, timeout=10).json()["status"] == "scheduled"
    assert admin.advance_clock(HOUR)["now"] == "2026-12-01T10:00:00Z"
    assert http.get(url, timeout=10).json()["status"] == "active"
    admin.advance_clock(2 * HOUR)
    assert http.get(url, timeout=10).json()["status"] == "completed"
    events = http.get(f"{url}/events", timeout=10).json()["data"]
    assert [(e["action"], e["to"], e["at"]) for e in events] == [
        ("activate", "scheduled", "2026-12-01T09:00:00Z"),
        ("start", "active", "2026-12-01T10:00:00Z"),
        ("end", "completed", "2026-12-01T12:00:00Z"),
    ]


def test_unfreezing_lets_the_clock_run_on_from_where_it_stood(campaign_mock: RunningMock) -> None:
    admin = campaign_mock.admin
    admin.set_clock(now="2030-01-01T00:00:00Z", frozen=True)
    running = admin.set_clock(frozen=False)
    assert running["frozen"] is False
    assert running["now"].startswith("2030-01-01T00:00:0")


def test_clock_inputs_are_validated(campaign_mock: RunningMock) -> None:
    with pytest.raises(AdminError) as bad_time:
        campaign_mock.admin.set_clock(now="yesterday")
    assert bad_time.value.status == 422
    assert "date-time" in bad_time.value.body["detail"]
    with pytest.raises(AdminError) as backwards:
        campaign_mock.admin.advance_clock(-5)
    assert backwards.value.status == 422


def test_the_clock_refuses_moves_outside_its_range_and_keeps_serving(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    campaign_mock.admin.set_clock(now="8999-12-31T00:00:00Z")
    with pytest.raises(AdminError) as too_far:
        campaign_mock.admin.advance_clock(315360000)
    assert too_far.value.status == 422
    assert "outside the clock's range" in too_far.value.body["detail"]
    with pytest.raises(AdminError) as too_early:
        campaign_mock.admin.set_clock(now="0001-01-01T00:00:00+05:00")
    assert too_early.value.status == 422
    assert http.get(f"{campaign_mock.base_url}/campaigns", timeout=10).status_code == 200


def test_seed_stores_campaigns_in_any_state_with_ids_times_and_history(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    stored = campaign_mock.admin.seed(
        [
            {
                "id": "seeded-1",
                "name": "Seeded",
                "status": "paused",
                "start_at": "2026-11-01T00:00:00+01:00",
                "created_at": "2026-10-01T00:00:00Z",
                "events": [
                    {
                        "action": "activate",
                        "from": "draft",
                        "to": "active",
                        "reason": None,
                        "at": "2026-10-02T00:00:00Z",
                    },
                    {
                        "action": "pause",
                        "from": "active",
                        "to": "paused",
                        "reason": "Hold",
                        "at": "2026-10-03T00:00:00Z",
                    },
                ],
            },
            {
                "id": "seeded-2",
                "name": "Done",
                "status": "completed",
                "events": [  # a seeded history ends where the campaign stands (server/domain/seed_history.py)
                    {
                        "action": "activate",
                        "from": "draft",
                        "to": "active",
                        "reason": None,
                        "at": "2026-10-02T00:00:00Z",
                    },
                    {
                        "action": "complete",
                        "from": "active",
                        "to": "completed",
                        "reason": None,
                        "at": "2026-10-03T00:00:00Z",
                    },
                ],
            },
        ]
    )
    assert [campaign["id"] for campaign in stored] == ["seeded-1", "seeded-2"]
    read = http.get(f"{campaign_mock.base_url}/campaigns/seeded-1", timeout=10).json()
    assert (read["status"], read["start_at"], read["created_at"]) == (
        "paused",
        "2026-10-31T23:00:00Z",
        "2026-10-01T00:00:00Z",
    )
    assert read["settings"] == {"daily_limit": 50, "track_opens": True}
    assert http.post(f"{campaign_mock.base_url}/campaigns/seeded-1/resume", timeout=10).json()["status"] == "active"
    assert len(http.get(f"{campaign_mock.base_url}/campaigns/seeded-1/events", timeout=10).json()["data"]) == 3
    assert http.post(f"{campaign_mock.base_url}/campaigns/seeded-2/cancel", timeout=10).status_code == 409


@pytest.mark.parametrize(
    ("campaigns", "status", "detail"),
    [
        ([{"id": "a", "name": "x", "status": "lost"}], 422, "not a state"),
        ([{"id": "a", "name": "x"}, {"id": "b", "name": 5}], 422, "campaigns/1/name"),
        ([{"id": "a", "name": "x"}, {"id": "a", "name": "y"}], 409, "given twice"),
        (
            [
                {
                    "id": "a",
                    "name": "x",
                    "status": "active",
                    "events": [
                        {
                            "action": "resume",
                            "from": "draft",
                            "to": "active",
                            "reason": None,
                            "at": "2026-10-02T00:00:00Z",
                        }
                    ],
                }
            ],
            422,
            "resume is not allowed from 'draft'",
        ),
        (
            [
                {
                    "id": "a",
                    "name": "x",
                    "status": "paused",
                    "events": [
                        {
                            "action": "activate",
                            "from": "draft",
                            "to": "active",
                            "reason": None,
                            "at": "2026-10-02T00:00:00Z",
                        }
                    ],
                }
            ],
            422,
            "the history ends in 'active', yet the campaign is 'paused'",
        ),
        (
            [
                {
                    "id": "a",
                    "name": "x",
                    "status": "active",
                    "events": [{"action": "activate", "from": "draft", "to": "active", "reason": None}],
                }
            ],
            422,
            "'at' is a required property",
        ),
        (
            [
                {
                    "id": "a",
                    "name": "x",
                    "status": "active",
                    "events": [
                        {
                            "action": "launch",
                            "from": "draft",
                            "to": "active",
                            "reason": None,
                            "at": "2026-10-02T00:00:00Z",
                        }
                    ],
                }
            ],
            422,
            "'launch' is no action or clock move",
        ),
    ],
    ids=[
        "unknown state",
        "schema",
        "id twice",
        "move not allowed",
        "history ends elsewhere",
        "event member missing",
        "unknown action",
    ],
)
def test_a_bad_seed_stores_nothing_and_says_why(
    campaign_mock: RunningMock, http: requests.Session, campaigns: list[dict[str, object]], status: int, detail: str
) -> None:
    with pytest.raises(AdminError) as refused:
        campaign_mock.admin.seed(campaigns)
    assert refused.value.status == status
    assert detail in refused.value.body["detail"]
    assert http.get(f"{campaign_mock.base_url}/campaigns", timeout=10).json()["pagination"]["total"] == 0


def test_a_seeded_id_in_use_answers_409(campaign_mock: RunningMock) -> None:
    campaign_mock.admin.seed([{"id": "taken", "name": "x"}])
    with pytest.raises(AdminError) as refused:
        campaign_mock.admin.seed([{"id": "taken", "name": "y"}])
    assert refused.value.status == 409


def test_the_journal_records_api_traffic_newest_first_and_filters(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    base = campaign_mock.base_url
    campaign = create_over_http(http, base)
    http.post(f"{base}/campaigns/{campaign['id']}/pause", timeout=10)
    http.get(f"{base}/campaigns/nope", timeout=10)
    campaign_mock.admin.clock()
    entries = campaign_mock.admin.journal()
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 404), ("POST", 409), ("POST", 201)]
    created = entries[2]
    assert created["operation_id"] == "createCampaign"
    assert '"name": "Admin test"' in created["body"]
    assert created["headers"]["AUTHORIZATION"] == f"Bearer {mask(campaign_mock.api_key)}"  # masked (server.redaction)
    assert [e["status"] for e in campaign_mock.admin.journal(method="post")] == [409, 201]
    assert [e["status"] for e in campaign_mock.admin.journal(path="/campaigns/*/pause")] == [409]
    assert [e["method"] for e in campaign_mock.admin.journal(status=404)] == ["GET"]
    assert len(campaign_mock.admin.journal(limit=1)) == 1
    campaign_mock.admin.clear_journal()
    assert campaign_mock.admin.journal() == []


def test_a_fault_of_all_503s_on_reads_answers_503_in_the_error_format_until_cleared(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    base = campaign_mock.base_url
    campaign = create_over_http(http, base)
    plan = campaign_mock.admin.set_faults([{"operation": "getCampaign", "error_rate": 1.0, "error_status": 503}])
    assert plan["faults"][0]["operation"] == "getCampaign"
    for _ in range(5):
        failed = http.get(f"{base}/campaigns/{campaign['id']}", timeout=10)
        assert failed.status_code == 503
        assert failed.headers["Content-Type"] == "application/problem+json"
        assert failed.json()["title"] == "Service Unavailable"
    assert http.get(f"{base}/campaigns", timeout=10).status_code == 200
    assert campaign_mock.admin.journal(status=503)[0]["fault"] == "error"
    campaign_mock.admin.clear_faults()
    assert http.get(f"{base}/campaigns/{campaign['id']}", timeout=10).status_code == 200


def test_latency_faults_are_measurable(campaign_mock: RunningMock, http: requests.Session) -> None:
    campaign_mock.admin.set_faults([{"operation": "*", "latency_ms": 300}])
    started = time.perf_counter()
    assert http.get(f"{campaign_mock.base_url}/campaigns", timeout=10).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_a_dropped_connection_gets_no_answer_and_is_journaled(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    campaign_mock.admin.set_faults([{"operation": "listCampaigns", "drop_rate": 1.0}])
    with pytest.raises(requests.ConnectionError):
        http.get(f"{campaign_mock.base_url}/campaigns", timeout=10)
    dropped = campaign_mock.admin.journal()[0]
    assert (dropped["status"], dropped["fault"]) == (None, "drop")


def test_faults_are_validated_against_the_served_operations(campaign_mock: RunningMock) -> None:
    with pytest.raises(AdminError) as refused:
        campaign_mock.admin.set_faults([{"operation": "getCampain", "error_rate": 1}])
    assert refused.value.status == 422
    assert "getCampain" in refused.value.body["detail"]
    with pytest.raises(AdminError) as out_of_range:
        campaign_mock.admin.set_faults([{"operation": "*", "error_rate": 2}])
    assert out_of_range.value.status == 422


def test_reset_forgets_campaigns_journal_and_runtime_faults(campaign_mock: RunningMock, http: requests.Session) -> None:
    create_over_http(http, campaign_mock.base_url)
    campaign_mock.admin.set_faults([{"operation": "*", "latency_ms": 1}])
    campaign_mock.admin.set_clock(now="2031-01-01T00:00:00Z", frozen=True)
    campaign_mock.admin.reset()
    assert campaign_mock.admin.journal() == []
    assert campaign_mock.admin.faults() == {"seed": 0, "faults": []}
    assert campaign_mock.admin.clock()["frozen"] is False
    assert http.get(f"{campaign_mock.base_url}/campaigns", timeout=10).json()["pagination"]["total"] == 0


def test_config_shows_the_effective_settings_without_keys(campaign_mock: RunningMock) -> None:
    config = campaign_mock.admin.config()
    assert config["error_format"] == "problem"
    assert config["api_keys"] == "1 key(s)"
    assert config["rate_limit"]["windows"] == []
    assert "test-key" not in str(config)


def test_the_admin_spec_is_served_next_to_the_admin_api(campaign_mock: RunningMock) -> None:
    text = requests.get(f"{campaign_mock.admin.base_url}/__admin/openapi.yaml", timeout=10).text
    assert "campaign-mock admin API" in text


def _served(settings: ServeSettings) -> ThreadedServer:
    return ThreadedServer(assemble(settings).app)


def test_an_admin_key_protects_the_admin_api() -> None:
    with _served(ServeSettings(admin_key="secret", log_requests=False)) as server:
        with pytest.raises(AdminError) as refused:
            AdminClient(server.base_url).clock()
        assert refused.value.status == 401
        assert AdminClient(server.base_url, admin_key="secret").clock()["frozen"] is False


def test_no_admin_turns_the_admin_api_off() -> None:
    with _served(ServeSettings(admin=False, log_requests=False)) as server:
        assert requests.post(f"{server.base_url}/__admin/reset", timeout=10).status_code == 404


def test_admin_traffic_is_neither_rate_limited_nor_journaled() -> None:
    with _served(ServeSettings(rate_limit="1/min", log_requests=False)) as server:
        admin = AdminClient(server.base_url)
        for _ in range(5):
            admin.clock()
        answers = [
            requests.get(f"{server.base_url}/campaigns", headers={"Authorization": "Bearer demo-key"}, timeout=10)
            for _ in range(2)
        ]
        assert [a.status_code for a in answers] == [200, 429]
        assert [entry["status"] for entry in admin.journal()] == [429, 200]


def test_config_faults_apply_from_the_start_and_come_back_after_reset() -> None:
    settings = ServeSettings(
        faults=[{"operation": "listCampaigns", "error_rate": 1.0, "error_status": 502}], log_requests=False
    )
    with _served(settings) as server:
        url = f"{server.base_url}/campaigns"
        headers = {"Authorization": "Bearer demo-key"}
        assert requests.get(url, headers=headers, timeout=10).status_code == 502
        admin = AdminClient(server.base_url)
        admin.clear_faults()
        assert requests.get(url, headers=headers, timeout=10).status_code == 200
        admin.reset()
        assert requests.get(url, headers=headers, timeout=10).status_code == 502


def test_stored_campaigns_are_listed_newest_first_with_their_latest_events_and_counts_per_state(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    base = campaign_mock.base_url
    first, second = create_over_http(http, base, name="First"), create_over_http(http, base, name="Second")
    for action in ("activate", "pause", "resume"):
        assert http.post(f"{base}/campaigns/{first['id']}/{action}", json={}, timeout=10).status_code == 200
    view = requests.get(
        f"{campaign_mock.server_url}/sandboxes/{campaign_mock.sandbox}/__admin/campaigns",
        params={"limit": 5, "events": 2},
        timeout=10,
    ).json()
    assert view["total"] == 2
    assert [campaign["id"] for campaign in view["data"]] == [second["id"], first["id"]]
    assert [event["action"] for event in view["data"][1]["events"]] == ["pause", "resume"]
    assert view["data"][1]["events_total"] == 3
    assert view["by_status"]["active"] == 1
    assert view["by_status"]["draft"] == 1
    assert sum(view["by_status"].values()) == 2


def test_listing_stored_campaigns_by_an_unknown_state_names_the_states(campaign_mock: RunningMock) -> None:
    answer = requests.get(f"{campaign_mock.admin.base_url}/__admin/campaigns", params={"status": "nope"}, timeout=10)
    assert answer.status_code == 400
    assert "'nope' is not a state of the lifecycle; states: draft" in answer.json()["detail"]

"""What a blind attack batch on the newest surfaces found (about 70 attacks, none a 5xx), each
fixed as its class: an id requests cannot name is never seeded nor created; id 0 is an id;
a time exactly now is not in the future; only a cursor the list writes is taken; If-Match is
honoured where a contract does not name it; a path cannot forge a line of the access log."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
import yaml

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from tests.conftest import local_client
from tests.test_cursor_paging import cursor_document

BREVO_KEY = "brevo-attack-key"
MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef-us1"
SEED: dict[str, Any] = {
    "name": "seeded",
    "status": "draft",
    "type": "classic",
    "testSent": False,
    "header": "",
    "footer": "",
    "sender": {"email": "a@b.co"},
    "replyTo": "",
    "htmlContent": "",
    "createdAt": "2029-01-01T00:00:00Z",
    "modifiedAt": "2029-01-01T00:00:00Z",
}


def _brevo() -> Any:
    return local_client(assemble(ServeSettings(spec="brevo", log_requests=False, api_keys=[BREVO_KEY])).app)


@pytest.mark.parametrize("campaign_id", [2**53, 2**63, 0, -5])
def test_a_seeded_id_requests_cannot_name_is_refused_and_nothing_is_kept(campaign_id: int) -> None:
    mock = _brevo()
    refused = mock.simulate_post(
        "/__admin/campaigns", json={"campaigns": [{**SEED, "id": 7}, {**SEED, "id": campaign_id}]}
    )
    assert refused.status_code == 400  # Brevo answers every bad request alike (x-invalid-body-status)
    assert "seed only ids requests can name" in refused.json["message"]
    assert mock.simulate_get("/v3/emailCampaigns", headers={"api-key": BREVO_KEY}).json["count"] == 0


def test_when_the_ids_run_out_a_create_is_507_not_a_campaign_no_request_can_reach() -> None:
    mock = _brevo()
    assert mock.simulate_post("/__admin/campaigns", json={"campaigns": [{**SEED, "id": 2**53 - 1}]}).status_code == 201
    made = mock.simulate_post(
        "/v3/emailCampaigns", json={"name": "after", "sender": {"email": "a@b.co"}}, headers={"api-key": BREVO_KEY}
    )
    assert made.status_code == 507
    assert "run out of ids" in made.json["message"]
    assert mock.simulate_get("/v3/emailCampaigns", headers={"api-key": BREVO_KEY}).json["count"] == 1


def test_a_schedule_time_exactly_now_is_refused_as_not_in_the_future() -> None:
    settings = ServeSettings(
        spec="mailchimp", log_requests=False, freeze_clock=True, clock_start="2030-01-01T09:15:00Z"
    )
    mock = local_client(assemble(settings).app)
    auth = {"Authorization": "Basic " + base64.b64encode(f"any:{MAILCHIMP_KEY}".encode()).decode()}
    made = mock.simulate_post("/3.0/campaigns", json={"type": "regular"}, headers=auth)
    assert made.status_code == 200, made.text
    path = f"/3.0/campaigns/{made.json['id']}"
    refused = mock.simulate_post(
        f"{path}/actions/schedule", json={"schedule_time": "2030-01-01T09:15:00Z"}, headers=auth
    )
    assert refused.status_code == 400
    assert mock.simulate_get(path, headers=auth).json["status"] == "save"


def test_if_match_is_honoured_where_the_contract_does_not_name_it() -> None:
    mock = local_client(assemble(ServeSettings(spec="mailchimp", log_requests=False)).app)
    auth = {"Authorization": "Basic " + base64.b64encode(f"any:{MAILCHIMP_KEY}".encode()).decode()}
    path = f"/3.0/campaigns/{mock.simulate_post('/3.0/campaigns', json={'type': 'regular'}, headers=auth).json['id']}"
    stale = mock.simulate_post(f"{path}/actions/send", headers={**auth, "If-Match": '"999"'})
    assert stale.status_code == 412
    assert mock.simulate_get(path, headers=auth).json["status"] == "save"
    current = mock.simulate_get(path, headers=auth).headers["ETag"]
    assert mock.simulate_post(f"{path}/actions/send", headers={**auth, "If-Match": current}).status_code == 204


@pytest.mark.parametrize("offset", ["03", "\u0663", "\uff13", "3 "])
def test_a_cursor_the_list_never_writes_is_refused(tmp_path: Any, offset: str) -> None:
    spec = tmp_path / "cursor.yaml"
    spec.write_text(yaml.safe_dump(cursor_document(), sort_keys=False))
    mock = local_client(assemble(ServeSettings(spec=str(spec), log_requests=False, api_keys=["k"])).app)
    forged = "cm1." + base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")
    refused = mock.simulate_get("/campaigns", params={"page_token": forged}, headers={"Authorization": "Bearer k"})
    assert refused.status_code == 400


def test_a_path_cannot_forge_a_line_of_the_access_log(caplog: pytest.LogCaptureFixture) -> None:
    mock = local_client(assemble(ServeSettings(log_requests=True)).app)
    forged = "/campaigns/x%0A2026-12-03 18:00:00,000 INFO campaign_mock.access: DELETE /campaigns/all 204"
    with caplog.at_level(logging.INFO, logger="campaign_mock.access"):
        mock.simulate_get(forged, headers={"Authorization": "Bearer demo-key"})
    lines = [record.getMessage() for record in caplog.records if record.name == "campaign_mock.access"]
    assert lines
    assert all("\n" not in line for line in lines)
    assert any("\\x0a" in line for line in lines)

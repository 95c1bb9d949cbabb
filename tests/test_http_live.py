"""Over real HTTP: waitress on an ephemeral loopback port, in-process and as the CLI."""

from __future__ import annotations

import signal

import pytest
import requests

from tests.cli_process import serving
from tests.conftest import AUTH


def test_a_lifecycle_over_http_ends_in_409_naming_canceled(live_url: str) -> None:
    with requests.Session() as http:
        http.headers.update(AUTH)
        created = http.post(f"{live_url}/campaigns", json={"name": "Live"}, timeout=10)
        assert created.status_code == 201
        assert created.headers["Location"] == f"/campaigns/{created.json()['id']}"
        campaign_id = created.json()["id"]
        for action, status in [
            ("activate", "active"),
            ("pause", "paused"),
            ("resume", "active"),
            ("cancel", "canceled"),
        ]:
            moved = http.post(f"{live_url}/campaigns/{campaign_id}/{action}", timeout=10)
            assert (moved.status_code, moved.json()["status"]) == (200, status)
        refused = http.post(f"{live_url}/campaigns/{campaign_id}/resume", timeout=10)
        assert refused.status_code == 409
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.json()["current_status"] == "canceled"
        assert len(http.get(f"{live_url}/campaigns/{campaign_id}/events", timeout=10).json()["data"]) == 4


def test_malformed_requests_over_http_get_4xx_problems_not_500(live_url: str) -> None:
    with requests.Session() as http:
        http.headers.update(AUTH)
        broken = http.post(
            f"{live_url}/campaigns", data=b'{"name":', headers={"Content-Type": "application/json"}, timeout=10
        )
        assert broken.status_code == 400
        assert broken.headers["Content-Type"] == "application/problem+json"
        no_key = requests.get(f"{live_url}/campaigns", timeout=10)
        assert no_key.status_code == 401
        assert no_key.headers["WWW-Authenticate"].startswith("Bearer")
        chunked = http.post(
            f"{live_url}/campaigns",
            data=iter([b'{"name": ', b'"chunked"}']),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert chunked.status_code == 201
        assert chunked.json()["name"] == "chunked"


def test_the_cli_serves_prints_url_and_key_logs_requests_and_stops_on_ctrl_c() -> None:
    with serving("--api-key", "cli-key") as served:
        assert any("API keys: ****" in line for line in served.banner)  # the user's own key, masked
        assert not any("cli-key" in line for line in served.banner)
        created = requests.post(
            f"{served.url}/campaigns", json={"name": "cli"}, headers={"Authorization": "Bearer cli-key"}, timeout=10
        )
        assert created.status_code == 201
        assert requests.get(f"{served.url}/openapi.yaml", timeout=10).text.startswith("openapi: 3.1")
        code, out, err = served.interrupt()
    assert code == 0
    assert "campaign-mock: stopped" in out
    assert "POST /campaigns 201" in err


def test_the_cli_without_keys_uses_and_prints_the_demo_key() -> None:
    with serving("--no-request-log") as served:
        assert any("API key: demo-key" in line for line in served.banner)
        answer = requests.get(f"{served.url}/campaigns", headers={"Authorization": "Bearer demo-key"}, timeout=10)
        assert answer.status_code == 200
        code, _, err = served.interrupt()
    assert code == 0
    assert "GET /campaigns" not in err


@pytest.mark.parametrize(("background", "signum"), [(True, signal.SIGINT), (False, signal.SIGTERM)])
def test_the_cli_stops_cleanly_on_sigint_even_as_a_background_job_and_on_sigterm(background: bool, signum: int) -> None:
    with serving("--no-request-log", as_background_job=background) as served:
        code, out, _ = served.interrupt(signum=signum)
    assert code == 0
    assert "campaign-mock: stopped" in out

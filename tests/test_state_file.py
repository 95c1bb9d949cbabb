"""``--state-file``: nothing accepted is lost across restarts, even a hard kill after a save."""

from __future__ import annotations

import json
import signal
import time
from datetime import timedelta
from pathlib import Path

import requests

from campaign_mock.contract.operations import Contract
from campaign_mock.server.campaigns import CampaignService
from campaign_mock.server.clock import ControllableClock
from campaign_mock.server.ids import SequentialIds
from campaign_mock.server.store import InMemoryCampaignStore
from tests.cli_process import run_cli, serving
from tests.conftest import START

KEY = {"Authorization": "Bearer state-key"}


def test_a_restart_keeps_campaigns_states_and_histories(tmp_path: Path) -> None:
    state = tmp_path / "state" / "mock.json"
    with serving("--state-file", str(state), "--api-key", "state-key", "--no-request-log") as served:
        assert any("loaded 0 campaign(s)" in line for line in served.banner)
        campaign = requests.post(f"{served.url}/campaigns", json={"name": "Kept"}, headers=KEY, timeout=10).json()
        for action in ("activate", "pause"):
            requests.post(f"{served.url}/campaigns/{campaign['id']}/{action}", headers=KEY, timeout=10)
        code, out, _ = served.interrupt(signum=signal.SIGTERM)
    assert code == 0
    assert f"saved 1 campaign(s) to {state}" in out
    with serving("--state-file", str(state), "--api-key", "state-key", "--no-request-log") as served:
        assert any("loaded 1 campaign(s)" in line for line in served.banner)
        url = f"{served.url}/campaigns/{campaign['id']}"
        assert requests.get(url, headers=KEY, timeout=10).json()["status"] == "paused"
        assert len(requests.get(f"{url}/events", headers=KEY, timeout=10).json()["data"]) == 2
        assert requests.post(f"{url}/resume", headers=KEY, timeout=10).json()["status"] == "active"
        served.interrupt()


def test_interval_saves_survive_a_hard_kill(tmp_path: Path) -> None:
    state = tmp_path / "mock.json"
    with serving("--state-file", str(state), "--state-interval", "0.2", "--api-key", "state-key") as served:
        campaign = requests.post(f"{served.url}/campaigns", json={"name": "Saved"}, headers=KEY, timeout=10).json()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and campaign["id"] not in (state.read_text() if state.exists() else ""):
            time.sleep(0.1)
        served.process.kill()  # SIGKILL, our own process by its PID: no shutdown save
        served.process.communicate(timeout=10)
    saved = json.loads(state.read_text())
    assert [entry["id"] for entry in saved["campaigns"]] == [campaign["id"]]
    assert not list(tmp_path.glob(".mock.json.*")), "a temporary file was left behind"


def test_an_unreadable_state_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "mock.json"
    state.write_text('{"format": "something-else"}')
    result = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f'campaign-mock: error: {state}: not a campaign-mock state file (no "format": "campaign-mock-state")'
    )
    assert state.read_text() == '{"format": "something-else"}', "the file must not be overwritten"


def test_a_restored_store_keeps_its_clock_driven_moves(contract: Contract) -> None:
    clock = ControllableClock(start=START, frozen=True)
    first = CampaignService(contract.lifecycle, InMemoryCampaignStore(), clock, SequentialIds(), {})
    campaign = first.create({"name": "Timed", "start_at": (START + timedelta(hours=1)).isoformat()})
    first.act(campaign["id"], "activate", None)
    again = CampaignService(contract.lifecycle, InMemoryCampaignStore(), clock, SequentialIds(), {})
    again.restore(first.snapshot())
    clock.advance(timedelta(hours=1))
    assert again.get(campaign["id"])["status"] == "active"

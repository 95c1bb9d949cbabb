"""``--state-file``: nothing accepted is lost across restarts, even a hard kill after a save."""

from __future__ import annotations

import json
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from campaign_mock.contract.operations import Contract
from campaign_mock.server.domain.campaigns import CampaignService
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import SequentialIds
from campaign_mock.server.stores.store import InMemoryCampaignStore
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


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_state_file_that_cannot_be_written_stops_the_start_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    result = run_cli("serve", "--port", "0", "--state-file", str(blocker / "mock.json"))
    assert result.returncode == 2
    assert "cannot write the state file there" in _one_line(result.stderr)


def _state(campaigns: list[dict[str, Any]], title: str = "Campaign lifecycle API") -> dict[str, Any]:
    return {
        "format": "campaign-mock-state",
        "version": 1,
        "contract": {"title": title, "states": []},
        "campaigns": campaigns,
    }


def _record(campaign_id: str, status: str | None, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    campaign: dict[str, Any] = {
        "id": campaign_id,
        "name": "Stored",
        "goal": None,
        "settings": {"daily_limit": 50, "track_opens": True},
        "sequence": [],
        "start_at": None,
        "end_at": None,
        "created_at": "2026-11-01T00:00:00Z",
        "updated_at": "2026-11-01T00:00:00Z",
    }
    if status is not None:
        campaign["status"] = status
    return {"id": campaign_id, "version": 1, "campaign": campaign, "events": events or []}


ACTIVATED = [{"action": "activate", "from": "draft", "to": "active", "reason": None, "at": "2026-11-01T00:00:00Z"}]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_state([_record("cmp_1", "draft")], title="Woodpecker campaigns"), "written by a mock serving 'Woodpecker"),
        (_state([_record("cmp_1", "RUNNING")]), "campaign 'cmp_1': /campaigns/0/status: 'RUNNING' is not a state"),
        (_state([_record("cmp_1", None)]), "campaign 'cmp_1': /campaigns/0/status: None is not a state"),
        (_state([_record("cmp_1", "draft"), _record("cmp_1", "draft")]), "campaign id 'cmp_1' is stored twice"),
        (_state([_record("cmp_1", "paused", ACTIVATED)]), "the history ends in 'active', yet the campaign is 'paused'"),
    ],
    ids=["another spec", "unknown status", "missing status", "duplicate ids", "impossible history"],
)
def test_a_state_file_the_contract_forbids_stops_the_start_with_one_line(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    state = tmp_path / "mock.json"
    state.write_text(json.dumps(document))
    result = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert result.returncode == 2
    assert message in _one_line(result.stderr)
    assert json.loads(state.read_text()) == document, "the file must not be overwritten"


def test_integer_ids_continue_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "altcraft.json"
    add = "/add"  # the banner URL ends in the base path, /api/v1.1/scampaigns
    with serving("--spec", "altcraft", "--state-file", str(state), "--no-request-log") as served:
        for name in ("one", "two"):
            requests.post(served.url + add, json={"token": "demo-key", "name": name}, timeout=10)
        served.interrupt(signum=signal.SIGTERM)
    with serving("--spec", "altcraft", "--state-file", str(state), "--no-request-log") as served:
        third = requests.post(served.url + add, json={"token": "demo-key", "name": "three"}, timeout=10)
        served.interrupt()
    assert (third.status_code, third.json()["data"]["id"]) == (200, 3)

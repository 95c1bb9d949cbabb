"""``--store sqlite:PATH`` (and ``--state-file PATH``): every acknowledged write is committed
before its answer, so a restart, even after ``kill -9`` under load, finds all of it; old
JSON state files are migrated once, and a file that cannot be used stops the start with
one line."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from collections import defaultdict
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cli_process import hard_kill, run_cli, serving

KEY = {"Authorization": "Bearer state-key"}
ADMIN_TOOL = {"X-Campaign-Mock": "1"}  # what a state-changing admin call from a tool carries (web.guard)
SERVE = ("--api-key", "state-key", "--no-request-log")


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_restart_keeps_campaigns_states_and_histories(tmp_path: Path) -> None:
    state = tmp_path / "state" / "mock.db"
    state.parent.mkdir()  # the store makes no folders (tests/test_cli_errors.py)
    with serving("--store", f"sqlite:{state}", *SERVE) as served:
        assert any(f"store sqlite:{state}, 0 campaign(s)" in line for line in served.banner), served.banner
        campaign = requests.post(f"{served.url}/campaigns", json={"name": "Kept"}, headers=KEY, timeout=10).json()
        for action in ("activate", "pause"):
            requests.post(f"{served.url}/campaigns/{campaign['id']}/{action}", headers=KEY, timeout=10)
        code, _, _ = served.interrupt(signum=signal.SIGTERM)
    assert code == 0
    with serving("--state-file", str(state), *SERVE) as served:  # the alias names the same store
        assert any("1 campaign(s) in the default sandbox" in line for line in served.banner), served.banner
        url = f"{served.url}/campaigns/{campaign['id']}"
        current = requests.get(url, headers=KEY, timeout=10)
        assert (current.json()["status"], current.headers["ETag"]) == ("paused", '"3"')
        assert len(requests.get(f"{url}/events", headers=KEY, timeout=10).json()["data"]) == 2
        assert requests.post(f"{url}/resume", headers=KEY, timeout=10).json()["status"] == "active"
        served.interrupt()


class Load:
    """Threads creating campaigns and moving them, each write noted once acknowledged."""

    def __init__(self, url: str, threads: int = 4, creates_per_thread: int = 200) -> None:
        self.url = url
        self.created: list[str] = []
        self.events: dict[str, int] = defaultdict(int)
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(creates_per_thread,), daemon=True) for _ in range(threads)
        ]

    def _run(self, creates: int) -> None:
        session = requests.Session()
        try:
            for _ in range(creates):
                if self.stopped.is_set():
                    return
                created = session.post(f"{self.url}/campaigns", json={"name": "Load"}, headers=KEY, timeout=5)
                assert created.status_code == 201, created.text
                campaign_id = created.json()["id"]
                with self._lock:
                    self.created.append(campaign_id)
                for action in ("activate", "pause", "resume"):
                    moved = session.post(f"{self.url}/campaigns/{campaign_id}/{action}", headers=KEY, timeout=5)
                    assert moved.status_code == 200, moved.text
                    with self._lock:
                        self.events[campaign_id] += 1
        except requests.RequestException:
            return  # the server was killed: what was acknowledged is noted

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        for thread in self._threads:
            thread.join(timeout=30)


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_kill_9_under_write_load_loses_no_acknowledged_campaign_or_event(server: str, tmp_path: Path) -> None:
    state = tmp_path / "mock.db"
    with serving("--server", server, "--store", f"sqlite:{state}", *SERVE) as served, Load(served.url) as load:
        deadline = time.monotonic() + 20
        while len(load.created) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        hard_kill(served)
    assert len(load.created) >= 150, "the load did not get going"
    with closing(sqlite3.connect(state)) as database:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = dict(database.execute("SELECT id, event_count FROM campaigns").fetchall())
        histories = dict(database.execute("SELECT campaign, COUNT(*) FROM events GROUP BY campaign").fetchall())
    lost = [campaign_id for campaign_id in load.created if campaign_id not in stored]
    short = [campaign_id for campaign_id, count in load.events.items() if histories.get(campaign_id, 0) < count]
    print(  # the figure the store issue asks for (pytest -s shows it)
        f"kill -9 under {server}: {len(load.created)} campaigns and {sum(load.events.values())} events "
        f"acknowledged; {len(lost)} campaigns and {len(short)} histories lost"
    )
    assert (lost, short) == ([], []), f"{len(lost)} campaigns and {len(short)} histories lost"
    assert all(stored[campaign_id] == histories.get(campaign_id, 0) for campaign_id in stored)
    with serving("--store", f"sqlite:{state}", *SERVE) as served:
        sample = load.created[:: max(1, len(load.created) // 25)]
        answers = [requests.get(f"{served.url}/campaigns/{i}", headers=KEY, timeout=10).status_code for i in sample]
        served.interrupt()
    assert set(answers) == {200}


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
    return {"id": campaign_id, "version": 2 if events else 1, "campaign": campaign, "events": events or []}


ACTIVATED = [{"action": "activate", "from": "draft", "to": "active", "reason": None, "at": "2026-11-01T00:00:00Z"}]


def test_an_old_json_state_file_is_migrated_once_and_kept_aside(tmp_path: Path) -> None:
    state = tmp_path / "mock.json"
    document = _state([_record("cmp_1", "active", ACTIVATED), _record("cmp_2", "draft")])
    state.write_text(json.dumps(document))
    with serving("--state-file", str(state), *SERVE) as served:
        assert any("migrated 2 campaign(s) from the JSON state file" in line for line in served.banner), served.banner
        first = requests.get(f"{served.url}/campaigns/cmp_1", headers=KEY, timeout=10)
        events = requests.get(f"{served.url}/campaigns/cmp_1/events", headers=KEY, timeout=10).json()["data"]
        served.interrupt()
    assert (first.json()["status"], first.headers["ETag"], len(events)) == ("active", '"2"', 1)
    assert json.loads((tmp_path / "mock.json.pre-sqlite.json").read_text()) == document
    with serving("--state-file", str(state), *SERVE) as served:
        assert not any("migrated" in line for line in served.banner)
        assert any("2 campaign(s) in the default sandbox" in line for line in served.banner)
        served.interrupt()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_state([_record("cmp_1", "draft")], title="Woodpecker campaigns"), "written by a mock serving 'Woodpecker"),
        (_state([_record("cmp_1", "RUNNING")]), "campaign 'cmp_1': /campaigns/0/status: 'RUNNING' is not a state"),
        (_state([_record("cmp_1", None)]), "campaign 'cmp_1': /campaigns/0/status: None is not a state"),
        (_state([_record("cmp_1", "draft"), _record("cmp_1", "draft")]), "campaign id 'cmp_1' is stored twice"),
        (_state([_record("cmp_1", "paused", ACTIVATED)]), "the history ends in 'active', yet the campaign is 'paused'"),
        ({"format": "something-else"}, 'not a campaign-mock state file (no "format": "campaign-mock-state")'),
        (
            _state([_record("cmp_1", "draft"), {**_record("cmp_2", "draft"), "events": [{"reason": "\ud800"}]}]),
            "campaign 'cmp_2': the string at /campaigns/1/events/0/reason holds a lone surrogate",
        ),
    ],
    ids=[
        *("another spec", "unknown status", "missing status", "duplicate ids", "impossible history", "not ours"),
        "a lone surrogate, which the API refuses",
    ],
)
def test_a_state_file_the_contract_forbids_stops_the_start_with_one_line_and_is_left_alone(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    state = tmp_path / "mock.json"
    state.write_text(json.dumps(document))
    result = run_cli("serve", "--port", "0", "--state-file", str(state))
    assert result.returncode == 2
    assert message in _one_line(result.stderr)
    assert json.loads(state.read_text()) == document, "the file must not be changed"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mock.json"]


def test_a_migration_that_fails_names_the_state_file_where_it_is_again(tmp_path: Path) -> None:
    state = tmp_path / "mock.json"
    document = _state([_record("cmp_1", "draft"), _record("cmp_2", "draft")])
    state.write_text(json.dumps(document))
    result = run_cli("serve", "--port", "0", "--state-file", str(state), "--max-campaigns", "1")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert f"{state}: could not migrate the JSON state file to SQLite" in line
    assert "pre-sqlite" not in line, "the message must name the file where it is now"
    assert json.loads(state.read_text()) == document
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mock.json"]


def test_a_store_file_that_cannot_be_used_stops_the_start_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    unwritable = run_cli("serve", "--port", "0", "--store", f"sqlite:{blocker / 'mock.db'}")
    assert unwritable.returncode == 2
    assert "cannot use it as the store" in _one_line(unwritable.stderr)
    folder = run_cli("serve", "--port", "0", "--store", f"sqlite:{tmp_path}")
    assert "is a folder" in _one_line(folder.stderr)
    other = tmp_path / "notes.txt"
    other.write_text("plain text\n")
    foreign = run_cli("serve", "--port", "0", "--store", f"sqlite:{other}")
    assert "not a SQLite database" in _one_line(foreign.stderr)
    assert other.read_text() == "plain text\n"


def test_a_store_file_of_another_contract_is_refused_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "mock.db"
    with serving("--store", f"sqlite:{state}", "--no-request-log") as served:
        served.interrupt()
    result = run_cli("serve", "--port", "0", "--spec", "woodpecker", "--store", f"sqlite:{state}")
    assert result.returncode == 2
    assert "holds the campaigns of 'Campaign lifecycle API', not" in _one_line(result.stderr)


def test_a_second_server_on_a_file_another_one_serves_is_refused_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "mock.db"
    with serving("--store", f"sqlite:{state}", *SERVE) as served:
        second = run_cli("serve", "--port", "0", "--store", f"sqlite:{state}")
        still = requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10)
        served.interrupt()
    assert second.returncode == 2
    assert "another campaign-mock process serves this file" in _one_line(second.stderr)
    assert still.status_code == 200


def test_integer_ids_continue_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "altcraft.db"
    add = "/add"  # the banner URL ends in the base path, /api/v1.1/scampaigns
    with serving("--spec", "altcraft", "--state-file", str(state), "--no-request-log") as served:
        for name in ("one", "two"):
            requests.post(served.url + add, json={"token": "demo-key", "name": name}, timeout=10)
        served.interrupt(signum=signal.SIGTERM)
    with serving("--spec", "altcraft", "--state-file", str(state), "--no-request-log") as served:
        third = requests.post(served.url + add, json={"token": "demo-key", "name": "three"}, timeout=10)
        served.interrupt()
    assert (third.status_code, third.json()["data"]["id"]) == (200, 3)


def test_a_clock_driven_move_due_while_the_mock_was_down_happens_after_the_restart(tmp_path: Path) -> None:
    state = tmp_path / "mock.db"
    with serving("--store", f"sqlite:{state}", *SERVE) as served:
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
        campaign = requests.post(
            f"{served.url}/campaigns", json={"name": "Timed", "start_at": soon}, headers=KEY, timeout=10
        ).json()
        scheduled = requests.post(f"{served.url}/campaigns/{campaign['id']}/activate", headers=KEY, timeout=10)
        served.interrupt()
    assert scheduled.json()["status"] == "scheduled"
    time.sleep(2.5)
    with serving("--store", f"sqlite:{state}", *SERVE) as served:
        moved = requests.get(f"{served.url}/campaigns/{campaign['id']}", headers=KEY, timeout=10).json()
        served.interrupt()
    assert moved["status"] == "active"


def test_sandboxes_made_on_request_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "mock.db"
    args = ("--store", f"sqlite:{state}", "--sandboxes", "explicit", *SERVE)
    with serving(*args) as served:
        assert requests.put(f"{served.url}/__admin/sandboxes/team-a", headers=ADMIN_TOOL, timeout=10).status_code == 201
        requests.post(f"{served.url}/sandboxes/team-a/campaigns", json={"name": "Boxed"}, headers=KEY, timeout=10)
        served.interrupt()
    with serving(*args) as served:
        listed = requests.get(f"{served.url}/sandboxes/team-a/campaigns", headers=KEY, timeout=10)
        default = requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10).json()
        served.interrupt()
    assert [campaign["name"] for campaign in listed.json()["data"]] == ["Boxed"]
    assert default["data"] == []

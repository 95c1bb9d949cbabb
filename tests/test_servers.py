"""The same mock under both HTTP servers: ``campaign-mock serve --server waitress|granian``.

Each test starts the real CLI on a free loopback port and talks HTTP to it, so neither
server can drift: lifecycle, auth, limits, faults (a dropped connection too), size limits,
the admin API, graceful shutdown with a SQLite store, and the conformance kit.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
import requests

from tests.cli_process import cli_command, quick_check, run_cli, serving

AUTH = {"Authorization": "Bearer demo-key"}


def test_a_lifecycle_with_auth_and_errors_behaves_the_same(server: str) -> None:
    with serving("--server", server, "--no-request-log") as served:
        created = requests.post(f"{served.url}/campaigns", json={"name": "Both"}, headers=AUTH, timeout=5)
        campaign_id = created.json()["id"]
        activated = requests.post(f"{served.url}/campaigns/{campaign_id}/activate", headers=AUTH, timeout=5)
        events = requests.get(f"{served.url}/campaigns/{campaign_id}/events", headers=AUTH, timeout=5)
        again = requests.post(f"{served.url}/campaigns/{campaign_id}/activate", headers=AUTH, timeout=5)
        anonymous = requests.get(f"{served.url}/campaigns", timeout=5)
        missing = requests.get(f"{served.url}/campaigns/nope", headers=AUTH, timeout=5)
        served.interrupt()
    assert created.status_code == 201
    assert created.headers["Location"].endswith(campaign_id)
    assert activated.json()["status"] == "active"
    assert [event["action"] for event in events.json()["data"]] == ["activate"]
    assert (again.status_code, again.json()["current_status"]) == (409, "active")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert (missing.status_code, missing.headers["Content-Type"]) == (404, "application/problem+json")


def test_size_limits_answer_413_414_and_431(server: str) -> None:
    with serving("--server", server, "--no-request-log") as served:
        big_body = requests.post(
            f"{served.url}/campaigns",
            data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
            headers={**AUTH, "Content-Type": "application/json"},
            timeout=10,
        )
        long_query = requests.get(f"{served.url}/campaigns?q={'x' * 9000}", headers=AUTH, timeout=5)
        big_headers = requests.get(f"{served.url}/campaigns", headers={**AUTH, "X-Pad": "y" * 17000}, timeout=5)
        served.interrupt()
    assert [big_body.status_code, long_query.status_code, big_headers.status_code] == [413, 414, 431]


def test_rate_limits_answer_429_with_retry_after_then_recover(server: str) -> None:
    with serving("--server", server, "--no-request-log", "--rate-limit", "5/s") as served:
        statuses = [requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5) for _ in range(8)]
        time.sleep(1.1)
        later = requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5)
        served.interrupt()
    refused = [answer for answer in statuses if answer.status_code == 429]
    assert refused, [answer.status_code for answer in statuses]
    assert refused[0].headers["Retry-After"] == "1"
    assert later.status_code == 200


def test_the_concurrency_limit_queues_then_refuses(server: str) -> None:
    # One at a time, one may wait 5 s; each request is held 0.5 s, so of six at once some
    # are refused. Twelve server threads, so the server itself queues none of them.
    args = ["--server", server, "--no-request-log", "--threads", "12"]
    args += ["--concurrency-limit", "1", "--concurrency-queue", "1", "--concurrency-wait", "5"]
    with serving(*args) as served:
        requests.put(
            f"{served.url}/__admin/faults", json={"faults": [{"operation": "*", "latency_ms": 500}]}, timeout=5
        )
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(
                pool.map(lambda _: requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=30), range(6))
            )
        served.interrupt()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) >= 2, statuses
    assert statuses.count(429) >= 1, statuses


def test_faults_answer_in_the_error_format_and_drop_connections(server: str) -> None:
    with serving("--server", server, "--no-request-log", "--error-format", "envelope") as served:
        faults = [
            {"operation": "listCampaigns", "error_rate": 1, "error_status": 503},
            {"operation": "getCampaign", "drop_rate": 1},
        ]
        requests.put(f"{served.url}/__admin/faults", json={"faults": faults}, timeout=5)
        failing = requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5)
        # waitress closes before any byte; granian may send the head first, then closes before
        # the declared body: either way the client meets a broken connection.
        with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            requests.get(f"{served.url}/campaigns/any", headers=AUTH, timeout=5)
        journal = requests.get(f"{served.url}/__admin/journal", timeout=5).json()
        served.interrupt()
    assert failing.status_code == 503
    assert failing.json()["error"]["code"] == "injected-fault"
    assert {entry["fault"] for entry in journal["data"]} >= {"error", "drop"}


def test_the_admin_api_moves_the_clock_and_the_campaigns_with_it(server: str) -> None:
    with serving("--server", server, "--no-request-log", "--freeze-clock") as served:
        clock = requests.get(f"{served.url}/__admin/clock", timeout=5).json()
        start = clock["now"]
        later = requests.post(f"{served.url}/__admin/clock/advance", json={"seconds": 3600}, timeout=5).json()
        served.interrupt()
    assert clock["frozen"] is True
    assert later["now"] > start


def test_sigterm_lets_a_request_in_flight_finish_and_leaves_the_store_whole(server: str, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    args = ["--server", server, "--no-request-log", "--state-file", str(state)]
    answers: list[int] = []
    with serving(*args) as served:
        requests.post(f"{served.url}/campaigns", json={"name": "Kept"}, headers=AUTH, timeout=5)
        faults = [{"operation": "listCampaigns", "latency_ms": 1500}]
        requests.put(f"{served.url}/__admin/faults", json={"faults": faults}, timeout=5)
        slow = threading.Thread(
            target=lambda: answers.append(requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=20).status_code)
        )
        slow.start()
        time.sleep(0.5)
        code, _out, _ = served.interrupt(timeout=20, signum=signal.SIGTERM)
        slow.join(timeout=20)
    assert code == 0
    assert answers == [200]
    with closing(sqlite3.connect(state)) as database:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        documents = [json.loads(row[0]) for row in database.execute("SELECT document FROM campaigns")]
    assert [campaign["name"] for campaign in documents] == ["Kept"]


def test_the_kit_finds_the_mock_conformant_under_each_server(server: str) -> None:
    with serving("--server", server, "--no-request-log") as served:
        result = quick_check(served.url)
        served.interrupt()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Result: conformant." in result.stdout


def test_several_workers_without_a_shared_store_are_refused_saying_why() -> None:
    result = run_cli("serve", "--server", "granian", "--workers", "2")
    assert result.returncode == 2
    assert "--store memory:" in result.stderr
    assert "--store redis://" in result.stderr
    waitress = run_cli("serve", "--workers", "2", "--store", "redis://127.0.0.1:1/0")
    assert waitress.returncode == 2
    assert "--server granian" in waitress.stderr
    assert "several `campaign-mock serve`" in waitress.stderr


def test_granian_missing_is_a_one_line_error_naming_the_extra(tmp_path: Path) -> None:
    # A module named granian that fails to import stands in for an install without the extra.
    (tmp_path / "granian.py").write_text("raise ImportError('not installed')\n")
    import subprocess  # noqa: PLC0415 (only this test needs an environment of its own)

    result = subprocess.run(
        [*cli_command(), "serve", "--server", "granian"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert "pip install 'campaign-mock[fast]'" in result.stderr

"""A shared mock nobody can crash: a granian worker killed with ``kill -9`` is replaced and the
mock serves on, losing nothing its store keeps (issue 21).

Every server here is the real CLI on a free loopback port, stopped by its PID; every wait is
bounded.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from tests.cli_process import ServeProcess, children_of, serving
from tests.test_sqlite_store import KEY, SERVE, Load

AUTH = {"Authorization": "Bearer demo-key"}
REPLACED = "a granian worker died; this one"
RESPAWN_SECONDS = 10.0


def workers_of(pid: int) -> list[int]:
    """``children_of``, read again when one of the parent's threads ended while it was read."""
    for _ in range(10):
        try:
            return children_of(pid)
        except FileNotFoundError:
            time.sleep(0.01)
    return children_of(pid)


def kill_one_worker(served: ServeProcess) -> tuple[int, list[int]]:
    """``kill -9`` one of the server's granian workers (ours, by its PID); it and the others."""
    workers = workers_of(served.process.pid)
    assert workers, "granian forked no worker"
    os.kill(workers[0], signal.SIGKILL)
    return workers[0], workers[1:]


def wait_for(check: Callable[[], bool], seconds: float = RESPAWN_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def replaced(served: ServeProcess, dead: int, workers: int) -> Callable[[], bool]:
    """True once the parent runs ``workers`` workers again, none of them ``dead``."""

    def check() -> bool:
        now = workers_of(served.process.pid)
        return len(now) == workers and dead not in now

    return check


def answers(url: str, headers: dict[str, str]) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return requests.get(f"{url}/campaigns", headers=headers, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    return check


def test_a_killed_worker_is_replaced_and_sqlite_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    state = tmp_path / "mock.db"
    with serving("--server", "granian", "--store", f"sqlite:{state}", *SERVE) as served:
        start_at = (datetime.now(UTC) + timedelta(seconds=3)).isoformat().replace("+00:00", "Z")
        created = requests.post(
            f"{served.url}/campaigns", json={"name": "Later", "start_at": start_at}, headers=KEY, timeout=10
        )
        scheduled = requests.post(f"{served.url}/campaigns/{created.json()['id']}/activate", headers=KEY, timeout=10)
        assert scheduled.json()["status"] == "scheduled", scheduled.text
        with Load(served.url, threads=2, creates_per_thread=100) as load:
            assert wait_for(lambda: len(load.created) >= 30), "the load did not get going"
            dead, _ = kill_one_worker(served)
            killed_at = time.monotonic()
        assert wait_for(replaced(served, dead, 1)), "the dead worker was not replaced"
        assert wait_for(answers(served.url, KEY)), "the mock did not answer again"
        back_after = time.monotonic() - killed_at
        assert served.process.poll() is None, "the server exited when its worker died"
        session = requests.Session()
        missing = [
            i
            for i in load.created
            if session.get(f"{served.url}/campaigns/{i}", headers=KEY, timeout=5).status_code != 200
        ]
        short = [
            campaign_id
            for campaign_id, count in load.events.items()
            if len(session.get(f"{served.url}/campaigns/{campaign_id}/events", headers=KEY, timeout=5).json()["data"])
            < count
        ]
        # The timer scheduled before the kill fires in the new worker.
        started = wait_for(
            lambda: (
                session.get(f"{served.url}/campaigns/{created.json()['id']}", headers=KEY, timeout=5).json()["status"]
                == "active"
            )
        )
        code, _, err = served.interrupt()
    print(
        f"kill -9 of the granian worker (sqlite): serving again after {back_after:.2f} s; "
        f"{len(load.created)} campaigns and {sum(load.events.values())} events acknowledged; "
        f"{len(missing)} campaigns and {len(short)} histories lost"
    )
    assert (missing, short) == ([], []), f"{len(missing)} campaigns and {len(short)} histories lost"
    assert started, "the scheduled campaign did not start in the new worker"
    assert code == 0, err
    assert REPLACED in err
    assert "campaigns are in the file" in err


def test_with_the_memory_store_a_replaced_worker_serves_on_with_the_start_state_and_says_so() -> None:
    with serving("--server", "granian", "--no-request-log") as served:
        before = requests.post(f"{served.url}/campaigns", json={"name": "Gone"}, headers=AUTH, timeout=10)
        assert before.status_code == 201, before.text
        dead, _ = kill_one_worker(served)
        assert wait_for(replaced(served, dead, 1)), "the dead worker was not replaced"
        assert wait_for(answers(served.url, AUTH)), "the mock did not answer again"
        after = requests.get(f"{served.url}/campaigns/{before.json()['id']}", headers=AUTH, timeout=10)
        created = requests.post(f"{served.url}/campaigns", json={"name": "New"}, headers=AUTH, timeout=10)
        code, _, err = served.interrupt()
    # The campaigns lived in the dead worker: honest about it, in the log and the README.
    assert after.status_code == 404
    assert created.status_code == 201
    assert code == 0, err
    assert REPLACED in err
    assert "with --store memory:" in err


def test_with_two_workers_on_redis_the_other_keeps_answering_while_one_is_replaced(
    redis_url: str, namespace: str
) -> None:
    args = ("--server", "granian", "--workers", "2", "--store", redis_url, "--store-namespace", namespace)
    with serving(*args, "--no-request-log") as served:
        ids = [
            requests.post(f"{served.url}/campaigns", json={"name": f"Kept {n}"}, headers=AUTH, timeout=10).json()["id"]
            for n in range(10)
        ]
        statuses: list[int] = []
        stop = threading.Event()

        def probe() -> None:
            """A fresh connection every 20 ms, as new clients of a shared mock would come."""
            while not stop.is_set():
                try:
                    statuses.append(requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=2).status_code)
                except requests.RequestException:
                    statuses.append(0)
                time.sleep(0.02)

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        time.sleep(0.3)
        dead, _ = kill_one_worker(served)
        back = wait_for(replaced(served, dead, 2))
        time.sleep(0.5)
        stop.set()
        prober.join(timeout=10)
        kept = [requests.get(f"{served.url}/campaigns/{i}", headers=AUTH, timeout=5).status_code for i in ids]
        code, _, err = served.interrupt()
    failed = [status for status in statuses if status != 200]
    print(f"kill -9 of one of two granian workers (redis): {len(statuses)} probes, {len(failed)} unanswered")
    assert back, "the dead worker was not replaced"
    assert len(statuses) >= 20
    assert len(failed) <= 1, f"{len(failed)} of {len(statuses)} new clients were not answered while one worker died"
    assert kept == [200] * len(ids)
    assert code == 0, err
    assert REPLACED in err
    assert "nothing was lost" in err

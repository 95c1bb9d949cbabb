"""Sandboxes: one server, many worlds; isolation proven over HTTP, not assumed.

``/sandboxes/NAME`` followed by the contract's paths is the same contract in a world of its
own: campaigns, ids, clock, faults, journal, rate-limit counters. Two sandboxes are driven at
once and nothing of one shows in the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from campaign_mock.server.admin_client import AdminClient, AdminError
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.cli_process import run_cli, serving

KEY = {"Authorization": "Bearer box-key"}


@contextmanager
def server(**settings: Any) -> Iterator[str]:
    """A real waitress server (the app as ``serve`` assembles it) on a free loopback port; its root URL."""
    settings.setdefault("api_keys", ["box-key"])
    assembled = assemble(ServeSettings(log_requests=False, port=0, **settings))
    with ThreadedServer(assembled.app, render=assembled.errors.render, limits=assembled.limits) as running:
        yield running.base_url


def create(base: str, **fields: Any) -> dict[str, Any]:
    answer = requests.post(f"{base}/campaigns", json={"name": "Boxed", **fields}, headers=KEY, timeout=10)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def total(base: str) -> int:
    count: int = requests.get(f"{base}/campaigns", headers=KEY, timeout=10).json()["pagination"]["total"]
    return count


def test_campaigns_of_one_sandbox_are_unknown_to_another_and_to_its_totals() -> None:
    with server() as root:
        a, b = f"{root}/sandboxes/a", f"{root}/sandboxes/b"
        mine = create(a)
        create(a)
        create(b)
        assert requests.get(f"{b}/campaigns/{mine['id']}", headers=KEY, timeout=10).status_code == 404
        assert requests.get(f"{root}/campaigns/{mine['id']}", headers=KEY, timeout=10).status_code == 404
        assert requests.post(f"{b}/campaigns/{mine['id']}/activate", headers=KEY, timeout=10).status_code == 404
        assert (total(a), total(b), total(root)) == (2, 1, 0)


def test_the_clock_of_one_sandbox_moves_only_its_own_timers() -> None:
    with server(clock_start="2026-12-01T09:00:00Z", freeze_clock=True) as root:
        a, b = f"{root}/sandboxes/a", f"{root}/sandboxes/b"
        starts = {"start_at": "2026-12-01T10:00:00Z"}
        in_a, in_b = create(a, **starts), create(b, **starts)
        for base, campaign in ((a, in_a), (b, in_b)):
            requests.post(f"{base}/campaigns/{campaign['id']}/activate", headers=KEY, timeout=10)
        AdminClient(root, sandbox="a").advance_clock(7200)
        status_a = requests.get(f"{a}/campaigns/{in_a['id']}", headers=KEY, timeout=10).json()["status"]
        status_b = requests.get(f"{b}/campaigns/{in_b['id']}", headers=KEY, timeout=10).json()["status"]
        clock_b = AdminClient(root, sandbox="b").clock()
    assert (status_a, status_b) == ("active", "scheduled")
    assert clock_b == {"now": "2026-12-01T09:00:00Z", "frozen": True}


def test_a_fault_set_in_one_sandbox_never_fires_in_another() -> None:
    with server() as root:
        a, b = f"{root}/sandboxes/a", f"{root}/sandboxes/b"
        in_a, in_b = create(a), create(b)
        AdminClient(root, sandbox="a").set_faults(
            [{"operation": "getCampaign", "error_rate": 1.0, "error_status": 503}]
        )
        failing = [requests.get(f"{a}/campaigns/{in_a['id']}", headers=KEY, timeout=10).status_code for _ in range(10)]
        healthy = [requests.get(f"{b}/campaigns/{in_b['id']}", headers=KEY, timeout=10).status_code for _ in range(10)]
    assert failing == [503] * 10
    assert healthy == [200] * 10


def test_exhausting_the_rate_limit_in_one_sandbox_leaves_another_untouched() -> None:
    with server(rate_limit="5/min") as root:
        a, b = f"{root}/sandboxes/a", f"{root}/sandboxes/b"
        burst = [requests.get(f"{a}/campaigns", headers=KEY, timeout=10).status_code for _ in range(8)]
        other = [requests.get(f"{b}/campaigns", headers=KEY, timeout=10).status_code for _ in range(5)]
    assert burst == [200] * 5 + [429] * 3
    assert other == [200] * 5


def test_journals_hold_only_their_own_requests_and_a_reset_empties_only_its_own_sandbox() -> None:
    with server() as root:
        a, b = f"{root}/sandboxes/a", f"{root}/sandboxes/b"
        create(a)
        create(b)
        create(b)
        journal_a = AdminClient(root, sandbox="a").journal()
        journal_b = AdminClient(root, sandbox="b").journal()
        AdminClient(root, sandbox="a").reset()
        after = (total(a), total(b))
    assert [entry["path"] for entry in journal_a] == ["/campaigns"]
    assert len(journal_b) == 2
    assert after == (0, 2)


def test_a_sandbox_name_outside_the_rule_answers_400_naming_it() -> None:
    with server() as root:
        answer = requests.get(f"{root}/sandboxes/{'x' * 65}/campaigns", headers=KEY, timeout=10)
        spaced = requests.get(f"{root}/sandboxes/two%20words/campaigns", headers=KEY, timeout=10)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "1 to 64 characters of A-Z, a-z, 0-9" in answer.json()["detail"]
    assert spaced.status_code == 400


def test_explicit_sandboxes_are_made_only_through_the_admin_api() -> None:
    with server(sandboxes="explicit") as root:
        before = requests.get(f"{root}/sandboxes/ci/campaigns", headers=KEY, timeout=10)
        made = AdminClient(root).create_sandbox("ci")
        after = requests.get(f"{root}/sandboxes/ci/campaigns", headers=KEY, timeout=10)
    assert before.status_code == 404
    assert "PUT /__admin/sandboxes/ci" in before.json()["detail"]
    assert made["name"] == "ci"
    assert after.status_code == 200


def test_with_sandboxes_off_only_the_default_one_answers() -> None:
    with server(sandboxes="off") as root:
        refused = requests.get(f"{root}/sandboxes/a/campaigns", headers=KEY, timeout=10)
        default = requests.get(f"{root}/sandboxes/default/campaigns", headers=KEY, timeout=10)
    assert refused.status_code == 404
    assert "--sandboxes off" in refused.json()["detail"]
    assert default.status_code == 200


def test_one_sandbox_past_the_limit_answers_507_and_idle_ones_expire() -> None:
    with server(max_sandboxes=2, sandbox_ttl=1) as root:
        first = [requests.get(f"{root}/sandboxes/{name}/campaigns", headers=KEY, timeout=10) for name in ("a", "b")]
        refused = requests.get(f"{root}/sandboxes/c/campaigns", headers=KEY, timeout=10)
        time.sleep(1.3)  # both idle past the ttl: the next new sandbox finds room
        later = requests.get(f"{root}/sandboxes/c/campaigns", headers=KEY, timeout=10)
        names = [sandbox["name"] for sandbox in AdminClient(root).sandboxes()]
    assert [answer.status_code for answer in first] == [200, 200]
    assert refused.status_code == 507
    assert "--max-sandboxes" in refused.json()["detail"]
    assert later.status_code == 200
    assert names == ["default", "c"]


def test_the_admin_api_lists_and_drops_sandboxes_and_its_key_guards_every_sandbox() -> None:
    with server(admin_key="admin-secret") as root:
        create(f"{root}/sandboxes/a")
        admin = AdminClient(root, admin_key="admin-secret")
        listed = {sandbox["name"]: sandbox for sandbox in admin.sandboxes()}
        with pytest.raises(AdminError) as refused:
            AdminClient(root, sandbox="a").journal()
        admin.drop_sandbox("a")
        gone = [sandbox["name"] for sandbox in admin.sandboxes()]
        with pytest.raises(AdminError) as missing:
            admin.drop_sandbox("a")
        with pytest.raises(AdminError) as kept:
            admin.drop_sandbox("default")
    assert listed["a"]["campaigns"] == 1
    assert set(listed["a"]) == {"name", "campaigns", "last_used"}
    assert refused.value.status == 401
    assert gone == ["default"]
    assert (missing.value.status, kept.value.status) == (404, 409)


def test_each_sandbox_serves_its_spec_with_servers_pointing_at_it() -> None:
    with server(spec="ocamba") as root:
        served = yaml.safe_load(requests.get(f"{root}/sandboxes/team-7/openapi.yaml", timeout=10).text)
        default = yaml.safe_load(requests.get(f"{root}/openapi.yaml", timeout=10).text)
        created = requests.post(
            f"{root}/sandboxes/team-7/v1/hood/campaigns",
            json={"name": "x"},
            headers={"Authorization": "Bearer box-key"},
            timeout=10,
        )
    assert served["servers"][0]["url"] == "/sandboxes/team-7/v1/hood"
    assert default["servers"] != served["servers"]
    assert created.status_code == 201


def test_the_kit_finds_one_sandbox_conformant_while_another_is_under_load() -> None:
    stop = threading.Event()
    with serving("--api-key", "box-key", "--no-request-log", "--threads", "8") as served:
        busy = f"{served.url}/sandboxes/busy"

        def load() -> None:
            with requests.Session() as http:
                while not stop.is_set():
                    campaign = http.post(f"{busy}/campaigns", json={"name": "Load"}, headers=KEY, timeout=10).json()
                    http.post(f"{busy}/campaigns/{campaign['id']}/activate", headers=KEY, timeout=10)
                    http.post(f"{busy}/campaigns/{campaign['id']}/pause", headers=KEY, timeout=10)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        try:
            kit = f"{served.url}/sandboxes/kit"
            checked = run_cli(
                "check", "--spec", f"{kit}/openapi.yaml", "--base-url", kit,
                "--api-key", "box-key", "--max-examples", "5", "--timer-step", "0.5", timeout=300,
            )  # fmt: skip
        finally:
            stop.set()
            loader.join(15)
        busy_total = total(busy)
        served.interrupt()
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert "Result: conformant." in checked.stdout
    assert busy_total > 10  # the other sandbox really was under load meanwhile


XDIST_SUITE = '''
import json
import os
import time

import requests


def _check_my_world(campaign_mock, mark):
    """Create campaigns, set a clock and a fault of this worker's own, and see only them for 3 s."""
    http = requests.Session()
    http.headers.update(campaign_mock.auth_headers)
    campaign_mock.admin.set_clock(now=f"2030-0{mark}-01T00:00:00Z", frozen=True)
    made = [http.post(f"{campaign_mock.base_url}/campaigns", json={"name": f"w{mark}"}).json()["id"] for _ in range(3)]
    campaign_mock.admin.set_faults([{"operation": "deleteCampaign", "error_rate": 1.0, "error_status": 418 + mark}])
    started = time.time()
    deadline = time.monotonic() + 3
    rounds = 0
    while time.monotonic() < deadline:
        listed = http.get(f"{campaign_mock.base_url}/campaigns", params={"limit": 100}).json()
        assert sorted(c["id"] for c in listed["data"]) == sorted(made), "another worker's campaigns showed"
        assert {c["name"] for c in listed["data"]} == {f"w{mark}"}
        assert campaign_mock.admin.clock()["now"] == f"2030-0{mark}-01T00:00:00Z", "another worker moved my clock"
        faulted = http.delete(f"{campaign_mock.base_url}/campaigns/{made[0]}")
        assert faulted.status_code == 418 + mark, "another worker's fault fired here"
        rounds += 1
    record = {"worker": os.environ.get("PYTEST_XDIST_WORKER"), "start": started, "end": time.time(), "rounds": rounds}
    with open(os.environ["SANDBOX_LOG"], "a") as log:
        log.write(json.dumps(record) + "\\n")


def test_worker_one(campaign_mock):
    _check_my_world(campaign_mock, 1)


def test_worker_two(campaign_mock):
    _check_my_world(campaign_mock, 2)
'''


def test_two_xdist_workers_on_one_shared_server_never_meet(tmp_path: Path) -> None:
    project = tmp_path / "suite"
    project.mkdir()
    (project / "test_shared.py").write_text(textwrap.dedent(XDIST_SUITE))
    (project / "pytest.ini").write_text("[pytest]\n")
    log = tmp_path / "workers.jsonl"
    with serving("--api-key", "box-key", "--no-request-log", "--threads", "8") as served:
        ran = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "-s",
             "--campaign-mock-url", served.url, "--campaign-mock-api-key", "box-key", str(project)],
            capture_output=True, text=True, cwd=project, timeout=180, check=False,
            env={**os.environ, "SANDBOX_LOG": str(log)},
        )  # fmt: skip
        left = AdminClient(served.url).sandboxes()
        served.interrupt()
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert "2 passed" in ran.stdout
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert {run["worker"] for run in runs} == {"gw0", "gw1"}  # one test on each worker,
    assert max(run["start"] for run in runs) < min(run["end"] for run in runs)  # at the same time
    assert all(run["rounds"] > 3 for run in runs)
    assert [sandbox["name"] for sandbox in left] == ["default"]  # each worker dropped its sandbox


PER_TEST_SUITE = """
import os

import pytest
import requests


def _one_campaign_of_my_own(campaign_mock):
    http = requests.Session()
    http.headers.update(campaign_mock.auth_headers)
    http.post(f"{campaign_mock.base_url}/campaigns", json={"name": "mine"})
    with open(os.environ["SANDBOX_LOG"], "a") as log:
        log.write(campaign_mock.sandbox + "\\n")
    return http.get(f"{campaign_mock.base_url}/campaigns").json()["pagination"]["total"]


def test_first(campaign_mock):
    assert _one_campaign_of_my_own(campaign_mock) == 1


def test_second(campaign_mock):
    assert _one_campaign_of_my_own(campaign_mock) == 1


@pytest.mark.campaign_mock_sandbox
def test_marked(campaign_mock):
    assert _one_campaign_of_my_own(campaign_mock) == 1
"""


@pytest.mark.parametrize(("option", "own"), [("test", 3), ("worker", 2)])
def test_a_test_gets_a_sandbox_of_its_own_when_asked(tmp_path: Path, option: str, own: int) -> None:
    """Per test (the option, or the marker on one test): each sees only its own campaign, in a
    sandbox of its own; per worker (the default) the unmarked tests share one, reset between."""
    project = tmp_path / "suite"
    project.mkdir()
    (project / "test_own.py").write_text(textwrap.dedent(PER_TEST_SUITE))
    (project / "pytest.ini").write_text("[pytest]\n")
    log = tmp_path / "sandboxes.txt"
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
         "--campaign-mock-sandbox", option, str(project)],
        capture_output=True, text=True, cwd=project, timeout=180, check=False,
        env={**os.environ, "SANDBOX_LOG": str(log)},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    names = log.read_text().split()
    assert len(names) == 3
    assert len(set(names)) == own

"""Vendor profiles: each is served with its vendor's paths, auth, states, bodies and limits,
the kit passes it with its rules really exercised, and a profile's kit fails another's server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from campaign_mock.conformance.results import UsageError, Verdict
from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.contract.specs import bundled_names
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.cli_process import run_cli, serving

PROFILES = ("sevenheaven", "ocamba", "woodpecker", "tenant", "altcraft")
FAST = {"max_examples": 5, "timer_step_seconds": 0.6}


@dataclass(frozen=True)
class Served:
    root: str  # scheme, host and port
    api: str  # root plus the profile's base path
    settings: ServeSettings


@contextmanager
def serve(name: str, **settings: Any) -> Iterator[Served]:
    """The profile as ``campaign-mock serve --spec NAME`` assembles it, on real waitress."""
    configured = ServeSettings(spec=name, port=0, log_requests=False, **settings)
    assembled = assemble(configured)
    with ThreadedServer(assembled.app, threads=configured.effective_threads()) as server:
        yield Served(server.base_url, server.base_url + assembled.contract.base_path, configured)


def kit(spec: str, base_url: str, **options: Any) -> Report:
    return run_check(CheckRequest(spec=spec, base_url=base_url, **{**FAST, **options}), progress=lambda line: None)


def passed(report: Report, group: str) -> int:
    return sum(1 for o in report.outcomes if o.rule.startswith(f"{group}.") and o.verdict is Verdict.PASSED)


# -- each profile against its own mock ------------------------------------------------------


@pytest.mark.parametrize("name", PROFILES)
def test_the_kit_passes_each_profile_served_by_the_mock_with_its_rules_exercised(name: str) -> None:
    # Ocamba's real limits (150/min) would pace the kit for minutes; the served spec states
    # the override, and the limits themselves are checked by the next test.
    overrides = {"rate_limit": "1000/s"} if name == "ocamba" else {}
    skip = ("rate-limit",) if name == "ocamba" else ()  # 1000/s is no burst a kit sends
    # Woodpecker promises only a concurrency limit, which no client can make a server fill: its
    # rate-limit group checks nothing, so the run needs --allow-unchecked (and says so).
    unchecked = name == "woodpecker"
    with serve(name, **overrides) as served:
        spec = f"{served.root}/openapi.yaml"
        report = kit(
            spec, served.root, api_key="demo-key", other_api_key="other-key", allow_unchecked=unchecked, skip=skip
        )
    assert report.conformant, [(o.rule, o.operation, o.received[:200]) for o in report.failures][:5]
    assert [group.group for group in report.unchecked_groups] == (["rate-limit"] if unchecked else [])
    assert passed(report, "lifecycle") >= 40
    assert passed(report, "auth") >= 15
    assert passed(report, "errors") >= 20
    assert passed(report, "schema") > 0
    assert passed(report, "stateful") > 0


def test_ocambas_own_limits_pass_the_rate_limit_group_and_hide_their_headers_on_429() -> None:
    with serve("ocamba") as served:
        # first, while the minute's budget (150) is whole: the kit spends all of it on purpose
        answers = [requests.get(f"{served.api}/campaigns", headers=_bearer(), timeout=5) for _ in range(12)]
        time.sleep(1.1)
        report = kit("ocamba", served.root, api_key="demo-key", only=("rate-limit",))
        assert report.conformant, [(o.rule, o.received) for o in report.failures]
        assert passed(report, "rate-limit") >= 4
        assert any(o.rule == "rate-limit.enforced" and "150/60s" in o.operation for o in report.outcomes)
    assert answers[0].headers["X-RateLimit-Limit"] == "10"
    refused = [answer for answer in answers if answer.status_code == 429]
    assert refused, [answer.status_code for answer in answers]
    assert "Retry-After" in refused[0].headers
    assert "X-RateLimit-Limit" not in refused[0].headers
    assert set(refused[0].json()) == {"code", "title", "message", "trace_id"}


def test_check_names_a_profile_from_the_command_line_and_exits_0() -> None:
    with serving("--spec", "tenant", "--no-request-log") as served:
        root = re.sub(r"/api/v1/tenant$", "", served.url)
        result = run_cli(
            "check",
            "--spec",
            "tenant",
            "--base-url",
            root,
            "--api-key",
            "demo-key",
            "--other-api-key",
            "other-key",
            "--timer-step",
            "0.6",
            "--max-examples",
            "5",
            timeout=240,
        )
        served.interrupt()
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"auth\s+PASS .*tenancy probes", result.stdout)


# -- one profile's kit against another's server ---------------------------------------------


@pytest.mark.parametrize(
    ("spec", "server"), [("sevenheaven", "ocamba"), ("woodpecker", "tenant"), ("tenant", "ocamba")]
)
def test_the_kit_with_one_profiles_spec_refuses_a_server_of_another(spec: str, server: str) -> None:
    """Before any rule runs, the kit sees that the spec's operations are not served there: a
    usage error naming --base-url and --spec, not a verdict about the wrong server."""
    with serve(server, rate_limit="1000/s") as served, pytest.raises(UsageError, match="is not served there"):
        kit(spec, served.root, api_key="demo-key", only=("lifecycle", "auth", "errors"))


# -- what each vendor's clients meet ----------------------------------------------------------


def _bearer(key: str = "demo-key") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_sevenheaven_creates_active_campaigns_with_uuid_ids_and_wraps_answers_in_data() -> None:
    with serve("sevenheaven") as served:
        created = requests.post(
            f"{served.api}/campaign", json={"name": "Rewards", "status": "active"}, headers=_bearer(), timeout=5
        )
        campaign = created.json()["data"]
        paused = requests.post(f"{served.api}/campaign/{campaign['id']}/pause", headers=_bearer(), timeout=5)
        again = requests.post(f"{served.api}/campaign/{campaign['id']}/pause", headers=_bearer(), timeout=5)
    assert created.status_code == 201
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", campaign["id"])
    assert campaign["status"] == "active"
    assert paused.json()["data"]["status"] == "paused"
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"


def test_woodpecker_answers_actions_with_an_empty_200_and_errors_in_its_shapes_by_status() -> None:
    with serve("woodpecker") as served:
        key = {"x-api-key": "demo-key"}
        campaign = requests.post(f"{served.api}/campaigns", json={"name": "Q1"}, headers=key, timeout=5).json()
        run = requests.post(f"{served.api}/campaigns/{campaign['id']}/run", headers=key, timeout=5)
        refused = requests.patch(f"{served.api}/campaigns/{campaign['id']}", json={"name": "x"}, headers=key, timeout=5)
        requests.post(f"{served.api}/campaigns/{campaign['id']}/pause", headers=key, timeout=5)
        edited = requests.patch(f"{served.api}/campaigns/{campaign['id']}", json={"name": "x"}, headers=key, timeout=5)
        missing = requests.get(f"{served.api}/campaigns/nope", headers=key, timeout=5)
        anonymous = requests.get(f"{served.api}/campaigns/nope", timeout=5)
    assert campaign["status"] == "DRAFT"
    assert (run.status_code, run.content) == (200, b"")
    assert refused.status_code == 409
    assert set(refused.json()) == {"title", "status", "detail", "timestamp"}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", refused.json()["timestamp"])
    assert edited.json()["status"] == "EDITED"
    assert missing.json() == {"code": "CAMPAIGN_NOT_EXIST", "message": "Campaign not found", "details": None}
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "Invalid api key"


def test_woodpecker_processes_one_request_at_a_time_and_refuses_beyond_six_waiting() -> None:
    # Each request is held 0.4 s (an injected latency), so twelve at once (on sixteen server
    # threads, else waitress itself queues them) overflow one slot plus a queue of six.
    faults = [{"operation": "*", "latency_ms": 400}]
    with serve("woodpecker", faults=faults, threads=16) as served, ThreadPoolExecutor(max_workers=12) as pool:
        futures = [
            pool.submit(requests.get, f"{served.api}/campaigns/x", headers={"x-api-key": "demo-key"}, timeout=30)
            for _ in range(12)
        ]
        statuses = sorted(future.result().status_code for future in futures)
    assert statuses.count(429) >= 1, statuses
    assert statuses.count(404) >= 7, statuses


def test_ocamba_pages_searches_sorts_and_resumes_by_the_body() -> None:
    with serve("ocamba", rate_limit="1000/s", freeze_clock=True) as served:
        api = f"{served.api}/campaigns"
        for name in ("alpha", "Beta", "gamma"):
            assert requests.post(api, json={"name": name}, headers=_bearer(), timeout=5).status_code == 201
        second = requests.get(api, params={"page": "2,1"}, headers=_bearer(), timeout=5).json()
        found = requests.get(api, params={"q": "BET"}, headers=_bearer(), timeout=5).json()
        ordered = requests.get(api, params={"sort": "-name"}, headers=_bearer(), timeout=5).json()
        bad_page = requests.get(api, params={"page": "1,500"}, headers=_bearer(), timeout=5)
        campaign_id = second["items"][0]["id"]
        later = (served_now(served) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
        resumed = requests.post(
            f"{api}/{campaign_id}/resume", json={"scheduled_time": later}, headers=_bearer(), timeout=5
        )
        scheduled = requests.get(f"{api}/{campaign_id}", headers=_bearer(), timeout=5).json()["items"][0]
        requests.post(f"{served.root}/__admin/clock/advance", json={"seconds": 3601}, timeout=5)
        running = requests.get(f"{api}/{campaign_id}", headers=_bearer(), timeout=5).json()["items"][0]
        wrong = requests.post(f"{api}/{campaign_id}/resume", json={"run_immediately": 1}, headers=_bearer(), timeout=5)
    assert (second["total"], [c["name"] for c in second["items"]]) == (3, ["Beta"])
    assert [c["name"] for c in found["items"]] == ["Beta"]
    assert [c["name"] for c in ordered["items"]] == ["gamma", "alpha", "Beta"]
    assert bad_page.status_code == 400
    assert (resumed.status_code, resumed.content) == (204, b"")
    assert scheduled["status"] == "scheduled"
    assert running["status"] == "running"
    assert wrong.status_code == 400
    assert wrong.json()["title"] == "Action not allowed in the current state."


def served_now(served: Served) -> datetime:
    answer = requests.get(f"{served.root}/__admin/clock", timeout=5).json()
    return datetime.fromisoformat(answer["now"].replace("Z", "+00:00"))


def test_tenant_keys_see_nothing_of_another_workspace() -> None:
    with serve("tenant") as served:
        api = f"{served.api}/campaigns"
        mine = requests.post(
            api, json={"workspace_slug": "acme-corp", "name": "Q4 Outreach"}, headers=_bearer(), timeout=5
        ).json()["data"]
        theirs_read = requests.get(f"{api}/{mine['id']}", headers=_bearer("other-key"), timeout=5)
        theirs_send = requests.post(
            f"{api}/{mine['id']}/send", json={"action": "start"}, headers=_bearer("other-key"), timeout=5
        )
        theirs_list = requests.get(api, params={"workspace": "acme-corp"}, headers=_bearer("other-key"), timeout=5)
        own_list = requests.get(api, params={"workspace": "globex"}, headers=_bearer("other-key"), timeout=5)
        sneak_in = requests.post(
            api, json={"workspace_slug": "acme-corp", "name": "x"}, headers=_bearer("other-key"), timeout=5
        )
        started = requests.post(f"{api}/{mine['id']}/send", json={"action": "start"}, headers=_bearer(), timeout=5)
        unknown = requests.post(f"{api}/{mine['id']}/send", json={"action": "launch"}, headers=_bearer(), timeout=5)
    assert mine["status"] == "draft"
    assert mine["settings"] == {"daily_limit": 50, "track_opens": True}
    for refused in (theirs_read, theirs_send, theirs_list, sneak_in):
        assert refused.status_code == 404
        assert refused.json()["success"] is False
        assert "Q4 Outreach" not in refused.text
    assert own_list.json() == {
        "success": True,
        "data": [],
        "pagination": {"total": 0, "limit": 20, "offset": 0, "has_more": False},
    }
    assert started.json()["data"]["status"] == "active"
    assert unknown.status_code in (400, 422)


@pytest.mark.parametrize("name", ["ocamba", "woodpecker", "tenant", "altcraft"])
def test_vendor_error_formats_are_usable_with_the_canonical_spec(name: str) -> None:
    with serve("campaigns", error_format=name) as served:
        answer = requests.get(f"{served.api}/campaigns/missing", headers=_bearer(), timeout=5)
        spec = requests.get(f"{served.root}/openapi.json", timeout=5).json()
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    assert spec["x-error-format"] == name
    body = answer.json()
    shapes = {
        "ocamba": {"code", "title", "message", "trace_id"},
        "woodpecker": {"code", "message", "details"},
        "tenant": {"success", "error"},
        "altcraft": {"data", "error", "error_text"},
    }
    assert set(body) == shapes[name]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<xml><name>&lol2;</name></xml>"""


def test_altcraft_takes_the_token_and_id_in_the_body_speaks_xml_and_checks_permissions() -> None:
    with serve("altcraft") as served:
        call = f"{served.api}/{{}}"

        def post(method: str, body: dict[str, Any], **kwargs: Any) -> requests.Response:
            return requests.post(call.format(method), json=body, timeout=5, **kwargs)

        first = post("add", {"token": "demo-key", "name": "Spring sale"}).json()
        second = post("add", {"token": "demo-key", "name": "Summer sale"}).json()
        xml = requests.post(
            call.format("activate"),
            data=b"<xml><token>demo-key</token><id>1</id></xml>",
            headers={"Content-Type": "application/xml"},
            timeout=5,
        )
        status = post("get_status", {"id": 1}, headers=_bearer("view-key")).json()
        forbidden = post("completed", {"id": 1}, headers=_bearer("view-key"))
        page = post("list", {"token": "demo-key", "from_id": 1, "limit": 5}).json()
        as_xml = post("get", {"token": "demo-key", "id": 1, "format": "xml"})
        missing = post("get", {"token": "demo-key", "id": 999})
        no_token = post("get", {"id": 1})
        bomb = requests.post(
            call.format("add"), data=BOMB, headers={"Content-Type": "application/xml", **_bearer()}, timeout=5
        )
    assert (first["data"]["id"], second["data"]["id"]) == (1, 2)
    assert first == {"data": first["data"], "error": 0, "error_text": "Successful operation"}
    assert "token" not in first["data"]
    assert xml.status_code == 200
    assert xml.headers["Content-Type"].startswith("application/xml")
    assert b"<error>0</error>" in xml.content
    assert status["data"] == {"status": "active"}
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == 403
    assert [campaign["id"] for campaign in page["data"]] == [2]
    assert as_xml.headers["Content-Type"].startswith("application/xml")
    assert b"<name>Spring sale</name>" in as_xml.content
    assert (missing.status_code, missing.json()["error"]) == (404, 404)
    assert (no_token.status_code, no_token.json()["error"]) == (401, 401)
    assert bomb.status_code == 400


def test_help_of_serve_and_check_names_every_bundled_spec() -> None:
    for command in ("serve", "check"):
        shown = " ".join(run_cli(command, "--help").stdout.split())
        for name in bundled_names():
            assert name in shown, (command, name)


def test_the_tenancy_rule_fails_when_the_other_key_sees_the_campaign() -> None:
    # The "other" key is the same tenant's: it sees everything, which the rule must report.
    with serve("tenant") as served:
        report = kit("tenant", served.root, api_key="demo-key", other_api_key="demo-key", only=("auth",))
    assert "auth.tenant-isolated" in report.broken_rules()

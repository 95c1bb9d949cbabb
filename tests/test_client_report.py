"""The client report: each rule proven by a small, deliberately careless client over HTTP,
and a careful client that does the same work found clean.

Most tests use the pytest fixture users get (``campaign_mock``: a sandbox on a real waitress
server); the rate-limit rules run on a server of their own with a limit of 2 per second.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from campaign_mock.server.admin_client import AdminClient, AdminError
from campaign_mock.server.pytest_plugin import RunningMock
from campaign_mock.server.run.assembly import assemble, load_checked_contract
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.traffic.client_report import build_report, operation_facts
from campaign_mock.server.traffic.journal import JournalEntry
from campaign_mock.server.traffic.redaction import NO_REDACTION
from campaign_mock.testing import ClientNotClean
from tests.cli_process import serving
from tests.conftest import CANONICAL_SPEC, create_over_http

KEY = "demo-key"


def broken(report: dict[str, Any]) -> dict[str, int]:
    return {rule["id"]: rule["count"] for rule in report["rules"] if rule["count"]}


def entries_of(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return next(rule["entries"] for rule in report["rules"] if rule["id"] == rule_id)


def test_a_careful_client_is_clean(campaign_mock: RunningMock, http: requests.Session) -> None:
    base = campaign_mock.base_url
    campaign = create_over_http(http, base)
    url = f"{base}/campaigns/{campaign['id']}"
    tag = http.get(url, timeout=10).headers["ETag"]
    updated = http.patch(url, json={"name": "Renamed"}, headers={"If-Match": tag}, timeout=10)
    assert updated.status_code == 200, updated.text
    for action in ("activate", "pause", "resume", "cancel"):
        read = http.get(url, timeout=10)
        assert read.json()["status"] != "canceled"
        moved = http.post(f"{url}/{action}", json={}, headers={"If-Match": read.headers["ETag"]}, timeout=10)
        assert moved.status_code == 200, moved.text
    report = campaign_mock.assert_clean_client(rules=["write-without-if-match"])
    assert report["clean"] is True
    assert report["entries_read"] >= 10
    assert [client["requests"] for client in report["clients"]] == [report["entries_read"]]


def test_invalid_bodies_and_content_types_are_invalid_requests(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    base = campaign_mock.base_url
    assert http.post(f"{base}/campaigns", json={"name": 5}, timeout=10).status_code == 422
    assert http.post(f"{base}/campaigns", data="name=x", timeout=10).status_code == 415
    assert http.get(f"{base}/campaigns", params={"limit": "lots"}, timeout=10).status_code == 400
    assert http.get(f"{base}/campaigns", params={"name": "x" * 9000}, timeout=10).status_code == 414
    report = campaign_mock.client_report()
    assert broken(report) == {"invalid-request": 4}
    assert [entry["status"] for entry in entries_of(report, "invalid-request")] == [422, 415, 400, 414]


def test_a_misspelt_path_is_an_unknown_route(campaign_mock: RunningMock, http: requests.Session) -> None:
    assert http.get(f"{campaign_mock.base_url}/campaign", timeout=10).status_code == 404
    report = campaign_mock.client_report()
    assert broken(report) == {"unknown-route": 1}
    assert entries_of(report, "unknown-route")[0]["why"] == "no operation is GET /campaign"


def test_missing_and_wrong_keys_are_bad_credentials(campaign_mock: RunningMock) -> None:
    base = campaign_mock.base_url
    assert requests.get(f"{base}/campaigns", timeout=10).status_code == 401
    assert requests.get(f"{base}/campaigns", headers={"Authorization": "Bearer nope-nope-nope"}, timeout=10).status_code
    report = campaign_mock.client_report()
    assert broken(report) == {"bad-credentials": 2}
    shown = [entry["client"] for entry in entries_of(report, "bad-credentials")]
    assert shown[0] == "anonymous"
    assert shown[1].startswith("Authorization: Bearer ****nope [")  # masked: the key never shows


def test_pausing_a_draft_is_a_forbidden_transition(campaign_mock: RunningMock, http: requests.Session) -> None:
    campaign = create_over_http(http, campaign_mock.base_url)
    assert (
        http.post(f"{campaign_mock.base_url}/campaigns/{campaign['id']}/pause", json={}, timeout=10).status_code == 409
    )
    report = campaign_mock.client_report()
    assert broken(report) == {"forbidden-transition": 1}
    assert entries_of(report, "forbidden-transition")[0]["operation_id"] == "pauseCampaign"


def test_renaming_a_canceled_campaign_is_an_update_of_a_terminal_one(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    url = f"{campaign_mock.base_url}/campaigns/{create_over_http(http, campaign_mock.base_url)['id']}"
    assert http.post(f"{url}/cancel", json={}, timeout=10).status_code == 200
    assert http.patch(url, json={"name": "Too late"}, timeout=10).status_code == 409
    assert broken(campaign_mock.client_report()) == {"update-of-terminal": 1}


def test_a_create_sent_twice_after_its_success_is_a_duplicate_write(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    create_over_http(http, campaign_mock.base_url, name="Twice")
    create_over_http(http, campaign_mock.base_url, name="Twice")
    create_over_http(http, campaign_mock.base_url, name="Other")  # not alike: no duplicate
    report = campaign_mock.client_report()
    assert broken(report) == {"duplicate-write": 1}
    assert campaign_mock.client_report(duplicate_window=0)["clean"] is True


def test_an_idempotency_key_makes_a_repeated_create_deliberate(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    for _ in range(2):
        answer = http.post(
            f"{campaign_mock.base_url}/campaigns",
            json={"name": "Keyed"},
            headers={"Idempotency-Key": "a1"},
            timeout=10,
        )
        assert answer.status_code == 201
    assert campaign_mock.client_report()["clean"] is True


def test_writes_without_if_match_are_reported_only_when_asked(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    url = f"{campaign_mock.base_url}/campaigns/{create_over_http(http, campaign_mock.base_url)['id']}"
    assert http.patch(url, json={"name": "Blind"}, timeout=10).status_code == 200
    assert campaign_mock.client_report()["clean"] is True
    report = campaign_mock.client_report(rules=["write-without-if-match"])
    assert broken(report) == {"write-without-if-match": 1}
    with pytest.raises(AdminError) as refused:
        campaign_mock.client_report(rules=["no-such-rule"])
    assert refused.value.status == 400
    assert "no-such-rule" in refused.value.body["detail"]


def test_injected_faults_never_count_against_the_client(campaign_mock: RunningMock, http: requests.Session) -> None:
    campaign_mock.admin.set_faults([{"operation": "createCampaign", "error_rate": 1.0, "error_status": 400}])
    assert http.post(f"{campaign_mock.base_url}/campaigns", json={"name": "Fault"}, timeout=10).status_code == 400
    campaign_mock.admin.clear_faults()
    assert campaign_mock.client_report()["clean"] is True


def test_assert_clean_client_fails_with_the_rule_its_advice_and_the_request(
    campaign_mock: RunningMock, http: requests.Session
) -> None:
    assert http.get(f"{campaign_mock.base_url}/campaign", timeout=10).status_code == 404
    with pytest.raises(ClientNotClean) as failed:
        campaign_mock.assert_clean_client()
    message = str(failed.value)
    assert "unknown-route: 1 request(s)" in message
    assert "Instead: Call only the paths and methods the spec documents" in message
    assert "GET /campaign -> 404: no operation is GET /campaign" in message
    assert campaign_mock.assert_clean_client(allow=["unknown-route"])["clean"] is False
    with pytest.raises(ValueError, match="allow: unknown rule"):
        campaign_mock.assert_clean_client(allow=["unkown-route"])


def test_the_report_is_per_sandbox(campaign_mock: RunningMock) -> None:
    other = campaign_mock.admin.for_sandbox(None).create_sandbox(f"{campaign_mock.sandbox}-other")["name"]
    try:
        root = campaign_mock.server_url
        assert requests.get(f"{root}/sandboxes/{other}/campaign", timeout=10).status_code == 404
        assert campaign_mock.client_report()["clean"] is True
        assert not AdminClient(root, sandbox=other).client_report()["clean"]
    finally:
        campaign_mock.admin.for_sandbox(None).drop_sandbox(other)


@pytest.fixture(scope="module")
def limited() -> Iterator[RunningMock]:
    """A server allowing 2 requests per second per key (the mock's clock, real time here)."""
    settings = ServeSettings(api_keys=[KEY], rate_limit="2/s", log_requests=False, port=0)
    with ThreadedServer(assemble(settings).app) as server:
        yield RunningMock(server.base_url, KEY, AdminClient(server.base_url), server_url=server.base_url)


def test_retrying_at_once_after_a_429_is_repeated_429_and_ignored_retry_after(limited: RunningMock) -> None:
    limited.admin.reset()
    statuses = [
        requests.get(f"{limited.base_url}/campaigns", headers=limited.auth_headers, timeout=10).status_code
        for _ in range(5)
    ]
    assert statuses[:2] == [200, 200]
    assert statuses.count(429) >= 2
    report = limited.client_report()
    refused = statuses.count(429)
    assert broken(report) == {"repeated-429": refused - 1, "ignored-retry-after": refused - 1}
    assert "said Retry-After: 1" in entries_of(report, "ignored-retry-after")[0]["why"]
    assert report["clients"][0]["refused_429"] == refused


def test_another_operation_right_after_a_429_ignores_retry_after(limited: RunningMock) -> None:
    limited.admin.reset()
    limited.admin.set_clock(frozen=True)  # one window for the whole test
    for _ in range(3):
        requests.get(f"{limited.base_url}/campaigns", headers=limited.auth_headers, timeout=10)
    requests.get(f"{limited.base_url}/campaigns/cmp_none", headers=limited.auth_headers, timeout=10)
    report = limited.client_report()
    assert broken(report) == {"ignored-retry-after": 1}
    assert entries_of(report, "ignored-retry-after")[0]["operation_id"] == "getCampaign"


def test_waiting_out_retry_after_on_the_mocks_clock_is_clean(limited: RunningMock) -> None:
    limited.admin.reset()
    limited.admin.set_clock(frozen=True)
    for _ in range(4):
        answer = requests.get(f"{limited.base_url}/campaigns", headers=limited.auth_headers, timeout=10)
        if answer.status_code == 429:
            limited.admin.advance_clock(float(answer.headers["Retry-After"]))
    report = limited.assert_clean_client()
    assert report["clients"][0]["refused_429"] == 1


def test_a_deprecated_operation_is_reported(tmp_path: Path) -> None:
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    document["paths"]["/campaigns"]["get"]["deprecated"] = True
    spec = tmp_path / "deprecated.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    settings = ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0)
    with ThreadedServer(assemble(settings).app) as server:
        mock = RunningMock(server.base_url, KEY, AdminClient(server.base_url), server_url=server.base_url)
        assert requests.get(f"{server.base_url}/campaigns", headers=mock.auth_headers, timeout=10).status_code == 200
        report = mock.client_report()
    assert broken(report) == {"deprecated-operation": 1}
    assert entries_of(report, "deprecated-operation")[0]["why"] == "listCampaigns is deprecated"


def test_one_report_covers_a_client_spread_over_two_replicas_on_redis(redis_url: str, namespace: str) -> None:
    shared = ("--store", redis_url, "--store-namespace", namespace, "--api-key", KEY, "--no-request-log")
    auth = {"Authorization": f"Bearer {KEY}"}
    with serving(*shared) as first, serving(*shared) as second:
        made = requests.post(f"{first.url}/campaigns", json={"name": "Twice"}, headers=auth, timeout=10)
        again = requests.post(f"{second.url}/campaigns", json={"name": "Twice"}, headers=auth, timeout=10)
        paused = requests.post(f"{second.url}/campaigns/{made.json()['id']}/pause", headers=auth, timeout=10)
        # Each replica writes its journal behind its answers: through the other one an entry
        # shows a round trip later (README, "Sharing one mock"), so read until it has (bounded).
        deadline = time.monotonic() + 10
        while True:
            report = AdminClient(first.url).client_report()
            if len(broken(report)) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        stored = requests.get(f"{second.url}/__admin/campaigns", timeout=10).json()
    assert (made.status_code, again.status_code, paused.status_code) == (201, 201, 409)
    assert broken(report) == {"duplicate-write": 1, "forbidden-transition": 1}
    assert stored["total"] == 2
    assert stored["by_status"]["draft"] == 2


ALTCRAFT = pytest.mark.campaign_mock(spec="altcraft")  # conflict: 400, the campaign's id in the body


def altcraft_call(mock: RunningMock, method: str, **body: Any) -> int:
    answer = requests.post(f"{mock.base_url}/{method}", json=body, headers=mock.auth_headers, timeout=10)
    return answer.status_code


def altcraft_add(mock: RunningMock, name: str) -> int:
    answer = requests.post(f"{mock.base_url}/add", json={"name": name}, headers=mock.auth_headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["data"]["id"])


@ALTCRAFT
def test_a_forbidden_move_answered_400_is_a_forbidden_transition_not_an_invalid_request(
    campaign_mock: RunningMock,
) -> None:
    campaign = altcraft_add(campaign_mock, "Spring")
    assert altcraft_call(campaign_mock, "deactivate", id=campaign) == 400  # inactive: nothing to deactivate
    assert altcraft_call(campaign_mock, "get") == 400  # no id: the contract refuses the body
    report = campaign_mock.client_report()
    assert broken(report) == {"forbidden-transition": 1, "invalid-request": 1}
    assert entries_of(report, "forbidden-transition")[0]["why"] == "answered 400 (invalid-transition)"


@ALTCRAFT
def test_an_action_sent_again_after_other_moves_on_that_campaign_is_no_duplicate_write(
    campaign_mock: RunningMock,
) -> None:
    campaign = altcraft_add(campaign_mock, "Spring")
    statuses = [altcraft_call(campaign_mock, action, id=campaign) for action in ("activate", "deactivate", "activate")]
    assert statuses == [200, 200, 200]
    assert altcraft_call(campaign_mock, "completed", id=campaign) == 200
    assert altcraft_call(campaign_mock, "deactivate", id=campaign) == 400  # deliberately forbidden, twice,
    assert altcraft_call(campaign_mock, "completed", id=campaign) == 400  # with another move between
    assert broken(campaign_mock.client_report()) == {"forbidden-transition": 2}


@ALTCRAFT
def test_an_action_sent_again_at_once_on_its_campaign_is_a_duplicate_write(campaign_mock: RunningMock) -> None:
    first, second = altcraft_add(campaign_mock, "One"), altcraft_add(campaign_mock, "Two")
    assert altcraft_call(campaign_mock, "activate", id=first) == 200
    assert altcraft_call(campaign_mock, "activate", id=second) == 200  # another campaign: not between
    assert altcraft_call(campaign_mock, "activate", id=first) == 400
    report = campaign_mock.client_report()
    assert broken(report) == {"duplicate-write": 1, "forbidden-transition": 1}
    assert "nothing else sent on the campaign between" in entries_of(report, "duplicate-write")[0]["why"]


def test_a_forbidden_move_answered_403_is_no_bad_credential(tmp_path: Path) -> None:
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    document["x-lifecycle"]["conflict"] = 403
    for path in document["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and "409" in operation.get("responses", {}):
                operation["responses"]["403"] = operation["responses"].pop("409")
    spec = tmp_path / "conflict-403.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    settings = ServeSettings(spec=str(spec), api_keys=[KEY], log_requests=False, port=0)
    with ThreadedServer(assemble(settings).app) as server:
        mock = RunningMock(server.base_url, KEY, AdminClient(server.base_url), server_url=server.base_url)
        with requests.Session() as http:
            http.headers.update(mock.auth_headers)
            campaign = create_over_http(http, server.base_url)
            assert http.post(f"{server.base_url}/campaigns/{campaign['id']}/pause", json={}).status_code == 403
            assert requests.get(f"{server.base_url}/campaigns", timeout=10).status_code == 401
        report = mock.client_report()
    assert broken(report) == {"forbidden-transition": 1, "bad-credentials": 1}


def test_an_entry_without_an_error_kind_is_judged_by_the_contracts_conflict_status() -> None:
    contract = load_checked_contract("altcraft")
    facts = operation_facts(contract)
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    old = JournalEntry(moment, "POST", "/deactivate", "", 400, {}, b'{"id": 1}', 1.0, "deactivate", None, id=1)
    report = build_report([old], 1, facts, NO_REDACTION)
    assert {rule: len(found) for rule, found in report.findings.items() if found} == {"forbidden-transition": 1}

"""Nobody outside can change the mock: what a browser page of another site, a rebinding name or an
anonymous client sends changes nothing and makes nothing. Each over HTTP against a real server."""

from __future__ import annotations

import hashlib
import http.client
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from campaign_mock.server.admin_client import AdminClient
from tests.test_sandboxes import KEY, create, server, total


def raw(root: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> tuple[int, Any]:
    """A request sent exactly as written (no path normalisation, our own Host header)."""
    parts = urlsplit(root)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_a_no_cors_reset_from_another_site_wipes_nothing() -> None:
    with server() as root:
        create(root)
        # What a page on another origin can send without a preflight: a simple POST, no custom headers.
        for headers in (
            {"Origin": "http://evil.example", "Content-Type": "text/plain"},
            {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
            {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site", "Content-Type": "application/json"},
            {"Origin": "null", "Content-Type": "application/json"},
            {"Content-Type": "application/x-www-form-urlencoded"},
            {},
        ):
            refused = requests.post(f"{root}/__admin/reset", headers=headers, data=b"{}", timeout=10)
            assert refused.status_code == 403, (headers, refused.text)
            assert refused.headers["Content-Type"] == "application/problem+json"
            assert refused.json()["type"].endswith(":cross-site-request")
        assert total(root) == 1


def test_cross_site_pages_change_no_campaign_even_with_a_key_they_know() -> None:
    with server() as root:
        campaign = create(root)
        answer = requests.post(
            f"{root}/campaigns/{campaign['id']}/cancel",
            headers={**KEY, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            timeout=10,
        )
        assert answer.status_code == 403
        assert requests.get(f"{root}/campaigns/{campaign['id']}", headers=KEY, timeout=10).json()["status"] == "draft"


def test_the_admin_api_still_takes_calls_from_its_own_page_and_from_tools() -> None:
    with server() as root:
        create(root)
        own_page = {"Origin": root, "Sec-Fetch-Site": "same-origin", "X-Campaign-Mock": "live-page"}
        assert requests.post(f"{root}/__admin/reset", headers=own_page, timeout=10).status_code == 204
        create(root)
        as_json = {"Content-Type": "application/json"}
        assert requests.post(f"{root}/__admin/reset", headers=as_json, timeout=10).status_code == 204
        AdminClient(root).reset()  # the admin client sends the marker
        assert total(root) == 0
        assert requests.get(f"{root}/__admin/config", timeout=10).status_code == 200  # reads need nothing


def test_a_rebinding_host_gets_403_in_the_configured_format_and_allowed_hosts_opens_it() -> None:
    with server() as root:
        status, body = raw(root, "GET", "/__admin/config", {"Host": "attacker.example"})
        assert status == 403
        assert b"host-not-allowed" in body
        assert b"--allowed-hosts" in body
        status, _ = raw(root, "GET", "/campaigns", {"Host": "attacker.example:8080", **KEY})
        assert status == 403
        for host in ("localhost", "LOCALHOST:8080", "127.0.0.1:1", "[::1]:80", "api.localhost", "10.1.2.3"):
            status, _ = raw(root, "GET", "/__admin/config", {"Host": host})
            assert status == 200, host
    with server(allowed_hosts=["mock.ci", ".fleet.example"]) as root:
        for host, expected in (("mock.ci:8080", 200), ("a.fleet.example", 200), ("fleet.example", 200), ("x.ci", 403)):
            status, _ = raw(root, "GET", "/__admin/config", {"Host": host})
            assert status == expected, host


def test_anonymous_requests_make_no_sandbox_and_cannot_fill_the_limit() -> None:
    with server(max_sandboxes=5) as root:
        for number in range(60):  # no credentials, a wrong key, unknown paths, <img>-like GETs
            headers = {"Authorization": "Bearer wrong"} if number % 3 == 0 else {}
            path = ("campaigns", "nowhere", "openapi.yaml", "__admin/config")[number % 4]
            answer = requests.get(f"{root}/sandboxes/anon-{number}/{path}", headers=headers, timeout=10)
            assert answer.status_code in (200, 401, 404), answer.text
        assert len(AdminClient(root).sandboxes()) == 1  # the default one only
        for number in range(5):
            assert requests.get(f"{root}/sandboxes/mine-{number}/campaigns", headers=KEY, timeout=10).status_code == 200
        names = {sandbox["name"] for sandbox in AdminClient(root).sandboxes()}
        assert names == {"default", *(f"mine-{number}" for number in range(5))}


def test_a_request_from_another_site_makes_no_sandbox_even_with_a_valid_key() -> None:
    with server() as root:
        answer = requests.get(
            f"{root}/sandboxes/from-evil/campaigns", headers={**KEY, "Sec-Fetch-Site": "cross-site"}, timeout=10
        )
        assert answer.status_code == 404
        assert len(AdminClient(root).sandboxes()) == 1


def test_the_admin_key_makes_a_sandbox_through_its_admin_api() -> None:
    with server(admin_key="boss") as root:
        answer = requests.post(
            f"{root}/sandboxes/made-by-admin/__admin/reset", headers={"Authorization": "Bearer boss"}, timeout=10
        )
        assert answer.status_code == 204
        assert "made-by-admin" in {sandbox["name"] for sandbox in AdminClient(root, "boss").sandboxes()}


@pytest.mark.parametrize("name", [".", "..", "%2E%2E", "%2e", "..."])
def test_dot_segment_sandbox_names_are_refused_and_leave_the_default_world_alone(name: str) -> None:
    with server() as root:
        create(root)
        status, body = raw(root, "POST", f"/sandboxes/{name}/__admin/reset", {"Content-Type": "application/json"})
        assert status == 400, body
        status, _ = raw(root, "GET", f"/sandboxes/{name}/campaigns", KEY)
        assert status == 400
        assert total(root) == 1


def test_a_sandbox_admin_sees_and_changes_only_its_own_sandbox() -> None:
    with server() as root:
        create(f"{root}/sandboxes/victim")
        create(f"{root}/sandboxes/a")
        json_type = {"Content-Type": "application/json"}
        listed = requests.get(f"{root}/sandboxes/a/__admin/sandboxes", timeout=10)
        dropped = requests.delete(f"{root}/sandboxes/a/__admin/sandboxes/victim", headers=json_type, timeout=10)
        made = requests.put(f"{root}/sandboxes/a/__admin/sandboxes/other", headers=json_type, timeout=10)
        assert (listed.status_code, dropped.status_code, made.status_code) == (404, 404, 404)
        assert "/__admin/sandboxes" in dropped.json()["detail"]
        assert total(f"{root}/sandboxes/victim") == 1
        assert {sandbox["name"] for sandbox in AdminClient(root).sandboxes()} == {"default", "victim", "a"}


def journal_bytes(root: str, sandbox: str) -> tuple[int, int]:
    """(entries, bytes of body and headers) the sandbox's journal holds, as the admin API shows it."""
    entries = AdminClient(root).for_sandbox(sandbox).journal(limit=10_000)
    held = sum(
        len(entry["body"] or "") + sum(len(name) + len(value) for name, value in entry["headers"].items())
        for entry in entries
    )
    return len(entries), held


def test_all_journals_together_stay_within_the_process_budget_and_a_quiet_sandbox_keeps_its_own() -> None:
    budget = 512 * 1024
    with server(journal_total_bytes=budget) as root:
        quiet = f"{root}/sandboxes/quiet"
        create(quiet)
        for sandbox in ("n1", "n2", "n3", "n4"):
            for _ in range(25):  # 100 requests of 60 KB: 6 MB offered, each sandbox's own bound is 16 MiB
                answer = requests.post(
                    f"{root}/sandboxes/{sandbox}/campaigns",
                    json={"name": 1, "pad": "x" * 60_000},
                    headers=KEY,
                    timeout=10,
                )
                assert answer.status_code in (400, 422)
        held = [journal_bytes(root, sandbox) for sandbox in ("quiet", "n1", "n2", "n3", "n4")]
        assert sum(size for _, size in held) <= budget
        assert held[0][0] == 1  # the quiet sandbox's one request is still there


def test_refused_anonymous_requests_cost_the_journal_little() -> None:
    with server() as root:
        padding = {f"X-Pad-{number}": "p" * 1000 for number in range(14)}  # 14 KB of headers, no credentials
        for _ in range(50):
            assert (
                requests.post(f"{root}/campaigns", headers=padding, data=b"y" * 50_000, timeout=10).status_code == 401
            )
        entries, held = journal_bytes(root, "default")
        assert entries == 50
        assert held <= 50 * (32 * 2 * 256 + 1024)  # each kept to 32 headers of 256 characters and 1 KiB of body
        assert held < 50 * 14_000 / 2


def test_two_keys_whose_short_digests_collide_are_two_clients_in_the_report() -> None:
    seen: dict[str, str] = {}
    number = 0
    while True:  # two keys whose 3-byte digests collide (found in a few thousand tries)
        key = f"k{number:07d}-same"  # one masked label for all: "****same"
        short = hashlib.blake2s(f"Bearer {key}".encode(), digest_size=3).hexdigest()  # as the report took it
        if short in seen:
            pair = (seen[short], key)
            break
        seen[short] = key
        number += 1
    with server(api_keys=["box-key", *pair]) as root:
        for key in pair:
            assert requests.get(f"{root}/campaigns", headers={"Authorization": f"Bearer {key}"}, timeout=10).ok
        report = requests.get(f"{root}/__admin/client-report", timeout=10).json()
        assert len(report["clients"]) == 2


@pytest.mark.parametrize(
    "host",
    [
        "localhost:80.evil.example",
        "[::1].evil.example",
        "[::1]:80:90",
        "evil.example#.localhost",
        "localhost..",
        "a b",
        "127.0.0.1:65536",
        "x" * 64 + ".localhost",
        ("a." * 130) + "localhost",
    ],
)
def test_a_host_header_that_is_no_host_name_is_refused_not_read_generously(host: str) -> None:
    with server() as root:
        status, body = raw(root, "GET", "/__admin/config", {"Host": host})
        assert status in (400, 403), body
        assert b"problem" in body or b"Host" in body


def test_an_absolute_form_target_names_the_host_the_guard_judges() -> None:
    with server() as root:
        status, _ = raw(root, "GET", "http://evil.example/__admin/config", {"Host": "127.0.0.1"})
        assert status == 403
        status, _ = raw(root, "GET", "http://localhost/__admin/config", {"Host": "127.0.0.1"})
        assert status == 200


def test_a_method_the_admin_path_does_not_serve_is_a_405_not_a_cross_site_refusal() -> None:
    with server() as root:
        status, _ = raw(root, "TRACE", "/__admin/config", {"Host": "localhost"})
        assert status == 405


def raw_bytes(root: str, request: bytes) -> bytes:
    parts = urlsplit(root)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_an_http11_request_without_a_host_is_refused_and_changes_nothing() -> None:
    with server() as root:
        create(root)
        answer = raw_bytes(
            root,
            b"POST /__admin/reset HTTP/1.1\r\nX-Campaign-Mock: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert total(root) == 1


def test_without_an_admin_key_no_authorization_header_passes_for_the_admin_marker() -> None:
    with server() as root:
        create(root)
        for value in ("x", "Basic Zm9vOmJhcg==", "Negotiate abc", "Bearer box-key"):
            refused = requests.post(
                f"{root}/__admin/reset",
                headers={"Authorization": value, "Content-Type": "text/plain"},
                data="x",
                timeout=10,
            )
            assert refused.status_code == 403, value
        assert total(root) == 1
    with server(admin_key="boss") as root:
        answer = requests.post(f"{root}/__admin/reset", headers={"Authorization": "Bearer boss"}, timeout=10)
        assert answer.status_code == 204  # the configured admin key is the marker

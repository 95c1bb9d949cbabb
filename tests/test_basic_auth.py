"""HTTP Basic auth, read from the contract once (``contract.security``) by the server, the kit
and the pytest fixture; a scheme the mock cannot check is named by ``lint`` and ``serve``; the
start-up banner names the key the mock accepts and how to send it."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from campaign_mock.conformance.results import Verdict
from campaign_mock.conformance.runner import CheckRequest, run_check
from campaign_mock.contract.lint import lint_source
from campaign_mock.contract.specs import read_source
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.cli_process import address, run_cli, serving
from tests.conftest import CANONICAL_SPEC

KEY = "basic-key-0123456789"
BASIC = {"type": "http", "scheme": "basic", "description": "`anystring:KEY`: the key is the password."}


def write_spec(tmp_path: Path, schemes: dict[str, Any], security: list[dict[str, Any]] | None, **root: Any) -> Path:
    """The canonical contract with other security schemes (``security`` None: nothing secured)."""
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    document["components"]["securitySchemes"] = schemes
    if security is None:
        document.pop("security", None)
    else:
        document["security"] = security
    document.update(root)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def basic_spec(tmp_path: Path) -> Path:
    return write_spec(tmp_path, {"basicAuth": BASIC}, [{"basicAuth": []}])


@contextmanager
def served(spec: Path, **settings: Any) -> Iterator[str]:
    """``spec`` as ``serve`` assembles it, on real waitress on a loopback port: its root URL."""
    configured = ServeSettings(spec=str(spec), api_keys=[KEY], port=0, log_requests=False, **settings)
    assembled = assemble(configured)
    with ThreadedServer(assembled.app, threads=configured.effective_threads()) as server:
        yield server.base_url


def basic(credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode("ascii")}


# -- the server --------------------------------------------------------------------------


def test_the_key_as_the_basic_password_with_any_user_is_let_in(basic_spec: Path) -> None:
    with served(basic_spec) as root:
        as_documented = requests.get(f"{root}/campaigns", auth=("anystring", KEY), timeout=10)
        other_user = requests.post(f"{root}/campaigns", json={"name": "Q4"}, auth=("me", KEY), timeout=10)
    assert as_documented.status_code == 200, as_documented.text
    assert other_user.status_code == 201, other_user.text


def test_a_wrong_password_is_401_with_a_basic_challenge(basic_spec: Path) -> None:
    with served(basic_spec) as root:
        wrong = requests.get(f"{root}/campaigns", auth=("anystring", "not-the-key"), timeout=10)
        missing = requests.get(f"{root}/campaigns", timeout=10)
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith('Basic realm="campaign-mock"')
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic ")
    assert "key as the password" in missing.json()["detail"]


MALFORMED = {
    "not base64": {"Authorization": "Basic !!!not-base64!!!"},
    "no colon": basic(b"anystring" + KEY.encode()),
    "not UTF-8": basic(b"anystring:\xff\xfe" + KEY.encode()),
    "no password": basic(KEY.encode() + b":"),
    "no credentials after Basic": {"Authorization": "Basic"},
    "bearer where basic is declared": {"Authorization": f"Bearer {KEY}"},
}


def test_malformed_basic_credentials_are_401_in_the_configured_error_format(basic_spec: Path) -> None:
    with served(basic_spec, error_format="envelope") as root:
        answers = {label: requests.get(f"{root}/campaigns", headers=h, timeout=10) for label, h in MALFORMED.items()}
    for label, answer in answers.items():
        assert answer.status_code == 401, (label, answer.status_code, answer.text)
        assert answer.headers["Content-Type"] == "application/json", label
        assert answer.json()["error"]["status"] == 401, label
        assert answer.headers["WWW-Authenticate"].startswith("Basic "), label


def test_header_bytes_that_are_no_ascii_are_401_not_500(basic_spec: Path) -> None:
    """Bytes no client library would send (requests encodes headers as Latin-1 text)."""
    with served(basic_spec) as root, socket.create_connection(address(root), timeout=10) as connection:
        connection.sendall(
            b"GET /campaigns HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic \xc3\xa9\xff==\r\n"
            b"Connection: close\r\n\r\n"
        )
        head = connection.recv(4096).split(b"\r\n", 1)[0]
    assert head == b"HTTP/1.1 401 Unauthorized"


def test_x_basic_user_fixes_the_user_name(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"basicAuth": {**BASIC, "x-basic-user": "api"}}, [{"basicAuth": []}])
    with served(spec) as root:
        right = requests.get(f"{root}/campaigns", auth=("api", KEY), timeout=10)
        other = requests.get(f"{root}/campaigns", auth=("anystring", KEY), timeout=10)
    assert right.status_code == 200
    assert other.status_code == 401
    assert "another user" in other.json()["detail"]


def test_bearer_and_basic_offered_side_by_side_each_let_the_key_in(tmp_path: Path) -> None:
    """Both read the Authorization header: what one scheme cannot read is not malformed while
    the other reads it."""
    schemes = {"basicAuth": BASIC, "bearerAuth": {"type": "http", "scheme": "bearer"}}
    spec = write_spec(tmp_path, schemes, [{"basicAuth": []}, {"bearerAuth": []}])
    with served(spec) as root:
        as_basic = requests.get(f"{root}/campaigns", auth=("anystring", KEY), timeout=10)
        as_bearer = requests.get(f"{root}/campaigns", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        as_digest = requests.get(f"{root}/campaigns", headers={"Authorization": "Digest x"}, timeout=10)
    assert (as_basic.status_code, as_bearer.status_code, as_digest.status_code) == (200, 200, 401)


# -- the kit and the fixture -------------------------------------------------------------


def test_the_kit_sends_basic_credentials_and_finds_the_mock_conformant(basic_spec: Path) -> None:
    with served(basic_spec) as root:
        report = run_check(
            CheckRequest(spec=str(basic_spec), base_url=root, api_key=KEY, only=("auth",), max_examples=5),
            progress=lambda line: None,
        )
    assert report.conformant, [(o.rule, o.operation, o.received[:200]) for o in report.failures][:5]
    refused = [o for o in report.outcomes if o.rule == "auth.refused" and o.verdict is Verdict.PASSED]
    assert len(refused) >= 10


def test_the_check_cli_is_conformant_on_a_basic_spec(basic_spec: Path) -> None:
    with served(basic_spec) as root:
        result = run_cli(
            *("check", "--spec", str(basic_spec), "--base-url", root, "--api-key", KEY, "--only", "auth"),
            timeout=240,
        )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


USER_TEST = """
import base64

import requests


def test_auth_headers_carry_the_key_as_basic(campaign_mock):
    assert campaign_mock.auth_headers["Authorization"].startswith("Basic ")
    sent = base64.b64decode(campaign_mock.auth_headers["Authorization"][len("Basic "):]).decode()
    assert sent == "anystring:" + campaign_mock.api_key
    answer = requests.get(f"{campaign_mock.base_url}/campaigns", headers=campaign_mock.auth_headers, timeout=10)
    assert answer.status_code == 200, answer.text
"""

USER_SETTINGS = """
import pytest

from campaign_mock.testing import ServeSettings


@pytest.fixture(scope="session")
def campaign_mock_settings():
    return ServeSettings(spec={spec!r}, api_keys=["user-key"], log_requests=False, port=0)
"""


def run_user_tests(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (project / "test_user.py").write_text(USER_TEST)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_fixtures_auth_headers_send_basic_credentials_in_process(basic_spec: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(USER_SETTINGS.format(spec=str(basic_spec)))
    result = run_user_tests(project)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_fixtures_auth_headers_send_basic_credentials_to_a_shared_mock(basic_spec: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    with served(basic_spec) as root:
        result = run_user_tests(project, f"--campaign-mock-url={root}", f"--campaign-mock-api-key={KEY}")
    assert result.returncode == 0, result.stdout[-3000:]


# -- what the mock cannot check ----------------------------------------------------------

OAUTH = {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://auth.example/token", "scopes": {}}}}


@pytest.mark.parametrize(
    "scheme",
    [OAUTH, {"type": "http", "scheme": "digest"}, {"type": "apiKey", "in": "cookie", "name": "session"}],
    ids=["oauth2", "http digest", "apiKey in a cookie"],
)
def test_a_scheme_the_mock_cannot_check_is_a_lint_finding_and_one_line_at_serve(
    tmp_path: Path, scheme: dict[str, Any]
) -> None:
    spec = write_spec(tmp_path, {"vendorAuth": scheme}, [{"vendorAuth": []}])
    findings = [f for f in lint_source(read_source(str(spec))) if f.rule == "security-unsupported"]
    assert len(findings) == 1
    assert "vendorAuth" in findings[0].message
    for lint in ("error", "warn"):  # --lint warn cannot serve it either: no client could get in
        result = run_cli("serve", "--spec", str(spec), "--port", "0", "--lint", lint)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f"{spec}:{findings[0].line}:{findings[0].column}: security-unsupported:" in lines[0]
        assert "http bearer, http basic" in lines[0]


def test_an_unsupported_scheme_offered_beside_a_supported_one_is_served_under_lint_warn(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"basicAuth": BASIC, "oauth": OAUTH}, [{"oauth": []}, {"basicAuth": []}])
    with served(spec, lint="warn") as root:
        answer = requests.get(f"{root}/campaigns", auth=("anystring", KEY), timeout=10)
    assert answer.status_code == 200


# -- the start-up banner -----------------------------------------------------------------


def keys_line(banner: list[str]) -> str:
    return next(line for line in banner if "API key" in line or "credentials" in line)


def test_the_banner_says_to_send_the_key_as_the_basic_password(basic_spec: Path) -> None:
    with serving("--spec", str(basic_spec), "--no-request-log") as served_mock:
        line = keys_line(served_mock.banner)
        answer = requests.get(f"{served_mock.url}/campaigns", auth=("anystring", "demo-key"), timeout=10)
    assert "API key: demo-key" in line
    assert "curl -u anystring:KEY" in line
    assert answer.status_code == 200


def test_the_banner_names_the_specs_single_demo_key(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"basicAuth": BASIC}, [{"basicAuth": []}], **{"x-demo-keys": ["sandbox-key"]})
    with serving("--spec", str(spec), "--no-request-log") as served_mock:
        line = keys_line(served_mock.banner)
        shown = requests.get(f"{served_mock.url}/campaigns", auth=("anystring", "sandbox-key"), timeout=10)
        default = requests.get(f"{served_mock.url}/campaigns", auth=("anystring", "demo-key"), timeout=10)
    assert "API key: sandbox-key (the spec's x-demo-keys" in line
    assert "API key: demo-key" not in line
    assert (shown.status_code, default.status_code) == (200, 401)


def test_the_banner_offers_no_key_for_a_spec_without_security(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"basicAuth": BASIC}, None)
    with serving("--spec", str(spec), "--no-request-log") as served_mock:
        line = keys_line(served_mock.banner)
        answer = requests.get(f"{served_mock.url}/campaigns", timeout=10)
    assert line == "campaign-mock: no credentials needed (the spec declares no security)"
    assert answer.status_code == 200

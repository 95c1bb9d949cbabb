"""``campaign-mock check`` as a user runs it: exit codes, report, JUnit XML, pytest entry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from campaign_mock.contract.operations import Contract
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import RandomIds
from campaign_mock.server.run.assembly import load_checked_contract
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.web.app import AppOptions, create_app
from tests import planted_faults
from tests.cli_process import run_cli, serving
from tests.conftest import CANONICAL_SPEC, REPO


def test_check_against_the_served_mock_exits_0_and_reports_by_group_with_its_time(tmp_path: Path) -> None:
    junit = tmp_path / "kit.xml"
    with serving("--api-key", "kit", "--no-request-log") as served:
        result = run_cli(
            "check",
            "--spec",
            f"{served.url}/openapi.yaml",
            "--base-url",
            served.url,
            "--api-key",
            "kit",
            "--junit-xml",
            str(junit),
            "--timer-step",
            "0.5",
            timeout=240,
        )
        served.interrupt()
    assert result.returncode == 0, result.stdout[-4000:]
    for group in ("schema", "stateful", "lifecycle", "updates", "headers", "listing", "auth", "errors", "rate-limit"):
        assert re.search(rf"^  {re.escape(group)}\s+(PASS|N/A)", result.stdout, re.MULTILINE), group
    assert re.search(r"Result: conformant\. \d+ passed, 0 not checked, in \d+\.\d s\.", result.stdout)
    assert re.search(r"^Coverage: operations 11/11, .*state x action 30/30", result.stdout, re.MULTILINE)
    assert "[lifecycle] running" in result.stderr
    suites = ElementTree.parse(junit).getroot()  # noqa: S314 (the file the kit just wrote)
    cases = suites.findall("testsuite/testcase")
    assert len(cases) > 50
    assert {case.get("classname", "").split(".")[0] for case in cases} >= {"lifecycle", "auth", "schema"}
    assert suites.findall("testsuite/testcase/failure") == []


def test_check_against_a_broken_server_exits_1_naming_the_rule_and_a_curl_replay() -> None:
    with ThreadedServer(planted_faults.forbidden_move_accepted(_contract())) as server:
        result = run_cli(
            "check",
            "--spec",
            "campaigns",
            "--base-url",
            server.base_url,
            "--api-key",
            planted_faults.KEY,
            "--only",
            "lifecycle",
            "--timer-step",
            "0.5",
            timeout=120,
        )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "lifecycle.forbidden-move: " in result.stdout
    assert "pauseCampaign from draft" in result.stdout
    assert "curl -i -X POST -H 'Authorization: Bearer '\"${API_KEY}\"" in result.stdout
    assert "Result: NOT conformant." in result.stdout


def test_usage_and_connection_errors_exit_2_with_one_clear_line(tmp_path: Path) -> None:
    refused = run_cli("check", "--spec", "campaigns", "--base-url", "http://127.0.0.1:9")
    assert refused.returncode == 2
    assert "cannot reach http://127.0.0.1:9" in refused.stderr
    unknown_group = run_cli("check", "--spec", "campaigns", "--base-url", "http://127.0.0.1:9", "--only", "speed")
    assert unknown_group.returncode == 2
    assert "unknown group(s) speed" in unknown_group.stderr
    missing_spec = run_cli("check", "--spec", str(tmp_path / "none.yaml"), "--base-url", "http://127.0.0.1:9")
    assert missing_spec.returncode == 2
    assert "none.yaml: no such file" in missing_spec.stderr
    with ThreadedServer(planted_faults.mock_app(_contract())) as server:
        keyless = run_cli("check", "--spec", "campaigns", "--base-url", server.base_url)
    assert keyless.returncode == 2
    assert "answered 401: no --api-key was given" in keyless.stderr
    no_args = run_cli("check")
    assert no_args.returncode == 2
    assert "--spec" in no_args.stderr


def test_the_kit_runs_from_pytest_with_pyargs() -> None:
    app = create_app(
        _contract(), AppOptions(api_keys=["py"], log_requests=False), clock=ControllableClock(), ids=RandomIds()
    )
    with ThreadedServer(app) as server:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "campaign_mock.conformance",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "--base-url",
            server.base_url,
            "--conformance-api-key",
            "py",
            "--conformance-only",
            "auth,listing",
        ]
        passing = subprocess.run(command, capture_output=True, text=True, cwd=REPO / "tests", timeout=240, check=False)
        failing = subprocess.run(
            [*command, "--conformance-api-key", "wrong"],
            capture_output=True,
            text=True,
            cwd=REPO / "tests",
            timeout=240,
            check=False,
        )
    assert passing.returncode == 0, passing.stdout[-3000:]
    assert "2 passed, 7 skipped" in passing.stdout
    assert failing.returncode == 1, failing.stdout[-3000:]
    assert "the --conformance-api-key given was refused" in failing.stdout


def _contract() -> Contract:
    return load_checked_contract(str(CANONICAL_SPEC))

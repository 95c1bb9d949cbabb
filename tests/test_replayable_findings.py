"""A finding's curl line, pasted into a shell with ``API_KEY`` set, sends what the kit sent:
the wrong key as it was, a key one edit from the valid one as an expansion of ``${API_KEY}``,
Basic credentials as ``-u``. Proven by running the lines with bash and curl against the server."""

from __future__ import annotations

import base64
import shutil
import subprocess

import pytest

from campaign_mock.conformance.results import Outcome
from campaign_mock.conformance.target import Exchange
from campaign_mock.contract.operations import Contract
from campaign_mock.server.run.threaded import ThreadedServer
from tests import planted_faults
from tests.test_kit_catches_faults import check

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def replay(line: str, key: str) -> int:
    """The status the curl line gets, run by bash with API_KEY set."""
    command = f"{line} -s -o /dev/null -w '%{{http_code}}'"
    bash = shutil.which("bash") or "/bin/bash"
    environment = {"API_KEY": key, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [bash, "-c", command], check=False, env=environment, capture_output=True, text=True, timeout=30
    )
    return int(done.stdout.strip() or 0)


def first_failure(outcomes: list[Outcome], label_part: str) -> Outcome:
    return next(o for o in outcomes if o.failed and label_part in o.operation)


def test_a_wrong_key_finding_replays_with_the_wrong_key_not_yours(contract: Contract) -> None:
    app = planted_faults.credentials_ignored(contract)
    report = check(app, "auth")
    finding = first_failure(report.failures, "with a wrong key")
    line = finding.steps[-1]
    assert "${API_KEY}" not in line, line
    with ThreadedServer(app, threads=4) as server:
        line = line.replace(report.base_url.split("/campaigns")[0], server.base_url)
        assert replay(line, planted_faults.KEY) == 200  # the bug shows again: a wrong key let in


def test_near_miss_keys_replay_as_expansions_of_your_key(contract: Contract) -> None:
    app = planted_faults.key_compared_by_prefix(contract)
    report = check(app, "auth")
    finding = first_failure(report.failures, "one character more")
    line = finding.steps[-1]
    assert '"${API_KEY}"x' in line, line
    assert planted_faults.KEY not in line
    with ThreadedServer(app, threads=4) as server:
        line = line.replace(report.base_url.split("/campaigns")[0], server.base_url)
        assert replay(line, planted_faults.KEY) == 200


def test_basic_credentials_replay_as_curl_u_with_the_key_masked() -> None:
    encoded = base64.b64encode(b"anystring:s3cret").decode()
    exchange = Exchange(
        None, "GET", "http://127.0.0.1:9/x", {"Authorization": f"Basic {encoded}"}, None, 401, {}, b"", "s3cret"
    )
    line = exchange.curl()
    assert '-u anystring:"${API_KEY}"' in line, line
    assert encoded not in line
    assert "s3cret" not in line


def test_schemathesis_findings_replay_with_the_key_it_hid(contract: Contract) -> None:
    app = planted_faults.create_answers_200(contract)
    report = check(app, "schema")
    finding = next(o for o in report.failures if o.rule == "schema.status_code_conformance")
    line = next(step for step in finding.steps if "POST" in step)
    assert "[Filtered]" not in line, line
    assert "${API_KEY}" in line, line
    with ThreadedServer(app, threads=4) as server:
        line = line.replace(report.base_url, server.base_url)
        assert replay(line, planted_faults.KEY) == 200  # the undocumented status shows again

"""Real schemathesis, all phases, against the mock served by the CLI, as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli_process import serving
from tests.conftest import REPO

SPEC = "openapi/campaigns.yaml"


def schemathesis(*args: str) -> subprocess.CompletedProcess[str]:
    """``schemathesis run`` from the repository root, so its schemathesis.toml applies."""
    executable = Path(sys.executable).parent / "schemathesis"
    return subprocess.run(
        [str(executable), "run", *args], capture_output=True, text=True, cwd=REPO, timeout=300, check=False
    )


def test_schemathesis_finds_no_failure_in_any_phase() -> None:
    with serving("--api-key", "st-key", "--no-request-log") as served:
        result = schemathesis(
            SPEC,
            "--url",
            served.url,
            "-H",
            "Authorization: Bearer st-key",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "40",
            "--seed",
            "20261123",
        )
        served.interrupt()
    assert result.returncode == 0, result.stdout[-5000:]
    last_line = result.stdout.strip().splitlines()[-1]
    assert "failure" not in last_line, last_line
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅  {phase}" in result.stdout, phase


def test_schemathesis_fails_a_server_whose_errors_differ_from_the_spec() -> None:
    """Control: the same run must be able to fail, here on error bodies the spec does not document."""
    with serving("--api-key", "st-key", "--no-request-log", "--error-format", "envelope") as served:
        result = schemathesis(
            SPEC,
            "--url",
            served.url,
            "-H",
            "Authorization: Bearer st-key",
            "--phases",
            "examples,coverage",
            "--seed",
            "1",
        )
        served.interrupt()
    assert result.returncode == 1, result.stdout[-3000:]
    assert "Undocumented Content-Type" in result.stdout or "Response violates schema" in result.stdout

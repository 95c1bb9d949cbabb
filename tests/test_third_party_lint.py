"""Every bundled spec passes the recommended rules of Redocly and Spectral without errors.

Both are npm tools (``npm install -g @redocly/cli @stoplight/spectral-cli``); ``.ci/run``
installs them. Locally a missing one is skipped with that line; under CI it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from campaign_mock.contract.specs import bundled_names, bundled_path
from tests.conftest import REPO

INSTALL = "npm install -g @redocly/cli @stoplight/spectral-cli"
SPECS = [*bundled_names(), "admin"]


def spec_path(name: str) -> str:
    return str(REPO / "openapi" / "admin.yaml") if name == "admin" else str(bundled_path(name))


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI: .ci/run installs it ({INSTALL})")
        pytest.skip(f"{name} is not installed: {INSTALL}")
    return found


@pytest.mark.parametrize("name", SPECS)
def test_redocly_recommended_rules_find_no_error(name: str) -> None:
    quiet = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    result = subprocess.run(
        [tool("redocly"), "lint", "--extends", "recommended", "--format", "stylish", spec_path(name)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=quiet,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("name", SPECS)
def test_spectral_oas_rules_find_no_error(name: str) -> None:
    result = subprocess.run(
        [
            tool("spectral"),
            "lint",
            "--ruleset",
            str(REPO / ".spectral.yaml"),
            "--fail-severity",
            "error",
            spec_path(name),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

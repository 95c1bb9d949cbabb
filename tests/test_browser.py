"""A real browser (headless Chromium) renders /docs and /docs/lifecycle from the mock, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from campaign_mock.server.assembly import assemble
from campaign_mock.server.config import ServeSettings
from campaign_mock.server.threaded import ThreadedServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def rendered_dom(url: str) -> str:
    """The page's DOM after its scripts ran (Swagger UI fetches the spec, then renders)."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def docs_url() -> Iterator[str]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run installs it (apt-get install chromium chromium-driver)")
        pytest.skip("Chromium is not installed: apt-get install chromium chromium-driver (as root) to run this test")
    assembled = assemble(ServeSettings(log_requests=False))
    with ThreadedServer(assembled.app) as server:
        yield server.base_url


def test_the_reference_page_renders_every_operation(docs_url: str) -> None:
    dom = rendered_dom(f"{docs_url}/docs")
    shown = re.findall(r'class="opblock-summary-operation-id">([A-Za-z]+)<', dom)
    assert sorted(shown) == sorted(
        [
            "listCampaigns",
            "createCampaign",
            "getCampaign",
            "updateCampaign",
            "deleteCampaign",
            "listCampaignEvents",
            "activateCampaign",
            "pauseCampaign",
            "resumeCampaign",
            "cancelCampaign",
            "completeCampaign",
        ]
    )


def test_the_lifecycle_page_draws_one_node_per_state(docs_url: str) -> None:
    dom = rendered_dom(f"{docs_url}/docs/lifecycle")
    states = re.findall(r'<g class="node[^"]*" data-state="([^"]+)"', dom)
    assert sorted(states) == sorted(["draft", "scheduled", "active", "paused", "canceled", "completed"])

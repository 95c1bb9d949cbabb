"""A real browser (headless Chromium) renders /docs and /docs/lifecycle from the mock, offline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.chromium import rendered_dom, require_chromium


@pytest.fixture(scope="module")
def docs_url() -> Iterator[str]:
    require_chromium()
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

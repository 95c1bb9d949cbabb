"""The lifecycle drawn (SVG, Mermaid, table), served under /docs, and kept current in the README."""

from __future__ import annotations

import re

import falcon.testing

from campaign_mock.contract.diagram import render_mermaid, render_svg, state_action_table
from campaign_mock.contract.operations import Contract
from tests.cli_process import run_cli
from tests.conftest import AUTH, REPO


def test_the_svg_has_one_node_per_state_with_initial_and_terminal_marked(contract: Contract) -> None:
    svg = render_svg(contract.lifecycle)
    nodes = re.findall(r'<g class="(node[^"]*)" data-state="([^"]+)"', svg)
    assert sorted(state for _, state in nodes) == sorted(contract.lifecycle.states)
    classes = {state: kind for kind, state in nodes}
    assert "initial" in classes["draft"]
    assert "terminal" in classes["canceled"]
    assert "terminal" in classes["completed"]
    assert 'class="edge timer" data-from="scheduled" data-to="active"' in svg
    assert ">pause<" in svg


def test_mermaid_lists_every_move_and_the_terminal_states(contract: Contract) -> None:
    text = render_mermaid(contract.lifecycle)
    assert text.startswith("stateDiagram-v2\n    [*] --> draft\n")
    assert "    draft --> scheduled : activate (start_at in the future)\n" in text
    assert "    scheduled --> active : ⏱ at start_at (start)\n" in text
    assert "    canceled --> [*]\n" in text


def test_the_table_gives_each_state_and_action_its_outcome(contract: Contract) -> None:
    rows = {row[0]: row[1:] for row in state_action_table(contract.lifecycle)}
    assert rows["state"] == ["activate", "pause", "resume", "cancel", "complete"]
    assert rows["paused"] == ["409", "409", "active", "canceled", "completed"]
    assert rows["draft"][0] == "active; scheduled if start_at is in the future"


def test_the_readme_shows_the_current_canonical_picture() -> None:
    assert "![Campaign lifecycle](docs/lifecycle.svg)" in (REPO / "README.md").read_text()
    generated = run_cli("diagram", "campaigns")
    assert generated.returncode == 0
    assert (REPO / "docs" / "lifecycle.svg").read_text() == generated.stdout, (
        "docs/lifecycle.svg is stale: run campaign-mock diagram openapi/campaigns.yaml -o docs/lifecycle.svg"
    )


def test_docs_pages_are_served_without_a_key_and_not_journaled(client: falcon.testing.TestClient) -> None:
    reference = client.simulate_get("/docs")
    assert reference.status_code == 200
    assert '<script src="/docs/static/swagger-ui-bundle.js">' in reference.text
    assert client.simulate_get("/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.simulate_get("/docs/static/swagger-ui.css").headers["content-type"] == "text/css"
    assert client.simulate_get("/docs/static/../../etc/passwd").status_code == 404
    lifecycle = client.simulate_get("/docs/lifecycle")
    assert lifecycle.text.count('<g class="node') == 6
    assert "<th>paused</th><td>409</td><td>409</td><td>active</td>" in lifecycle.text
    client.simulate_get("/campaigns", headers=AUTH)
    journal = client.simulate_get("/__admin/journal").json["data"]
    assert [entry["path"] for entry in journal] == ["/campaigns"]

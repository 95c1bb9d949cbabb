"""The kit never says "conformant" having checked nothing, names what it could not check and
what it made up, keeps what it found when the target stops answering, and draws its report."""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaign_mock.conformance.report import render_text
from campaign_mock.conformance.results import Verdict
from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.contract.operations import Contract
from campaign_mock.server.run.threaded import ThreadedServer
from tests import planted_faults
from tests.chromium import rendered_dom, require_chromium, served_folder
from tests.cli_process import run_cli, serving
from tests.conftest import CANONICAL_SPEC
from tests.planted_faults import KEY, WsgiApp


def without_examples(document: Any) -> Any:
    if isinstance(document, dict):
        return {key: without_examples(value) for key, value in document.items() if key not in ("example", "examples")}
    if isinstance(document, list):
        return [without_examples(item) for item in document]
    return document


@pytest.fixture(scope="module")
def bare_spec(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The canonical contract with every example left out, as a user's first draft may be."""
    path = tmp_path_factory.mktemp("bare") / "no-examples.yaml"
    path.write_text(yaml.safe_dump(without_examples(yaml.safe_load(CANONICAL_SPEC.read_text())), sort_keys=False))
    return str(path)


def kit(app: WsgiApp, spec: str, *groups: str, **options: Any) -> Report:
    with ThreadedServer(app, threads=4) as server:
        request = CheckRequest(
            spec=spec,
            base_url=server.base_url,
            api_key=KEY,
            only=groups,
            max_examples=5,
            timer_step_seconds=0.5,
            **options,
        )
        return run_check(request, progress=lambda line: None)


def test_without_examples_the_kit_makes_bodies_and_checks_every_state_and_action(
    contract: Contract, bare_spec: str
) -> None:
    report = kit(planted_faults.mock_app(contract), bare_spec, "lifecycle", "listing", "errors")
    assert report.conformant, [(o.rule, o.expected, o.received) for o in report.failures][:3]
    assert "state x action 30/30" in report.coverage
    assert {"createCampaign", "updateCampaign"} <= set(report.generated_bodies)
    text = render_text(report)
    assert "Request bodies made from the schema (the spec gives no example): createCampaign" in text
    not_found = [o for o in report.outcomes if o.rule == "errors.not-found" and o.operation == "updateCampaign"]
    assert [o.verdict for o in not_found] == [Verdict.PASSED]  # a valid body went to the unknown id, so 404


def test_without_examples_the_kit_still_catches_a_forbidden_move(contract: Contract, bare_spec: str) -> None:
    report = kit(planted_faults.forbidden_move_accepted(contract), bare_spec, "lifecycle")
    assert "lifecycle.forbidden-move" in report.broken_rules()


@pytest.fixture(scope="module")
def no_create_spec(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A contract whose lifecycle the kit cannot exercise: it has no create operation."""
    document = yaml.safe_load(CANONICAL_SPEC.read_text())
    del document["paths"]["/campaigns"]["post"]
    path = tmp_path_factory.mktemp("nocreate") / "no-create.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def test_a_group_that_could_check_nothing_is_no_pass(contract: Contract, no_create_spec: str) -> None:
    report = kit(planted_faults.mock_app(contract), no_create_spec, "lifecycle")
    assert not report.failures
    assert not report.conformant
    assert "Result: NOT conformant: not checked: lifecycle (the spec has no create operation)" in render_text(report)
    allowed = kit(planted_faults.mock_app(contract), no_create_spec, "lifecycle", allow_unchecked=True)
    assert allowed.conformant


def test_the_cli_exits_1_on_an_unchecked_group_and_0_with_allow_unchecked(
    contract: Contract, no_create_spec: str
) -> None:
    with ThreadedServer(planted_faults.mock_app(contract)) as server:
        args = (
            "check",
            "--spec",
            no_create_spec,
            "--base-url",
            server.base_url,
            "--api-key",
            KEY,
            "--only",
            "lifecycle",
        )
        refused, allowed = run_cli(*args), run_cli(*args, "--allow-unchecked")
    assert refused.returncode == 1, refused.stdout[-2000:]
    assert "not checked: lifecycle" in refused.stdout
    assert allowed.returncode == 0, allowed.stdout[-2000:]


def test_the_report_says_what_each_run_covered(contract: Contract) -> None:
    report = kit(planted_faults.mock_app(contract), str(CANONICAL_SPEC), "lifecycle", "listing")
    assert report.coverage.startswith("Coverage: operations ")
    for share in (
        "operations",
        "documented statuses",
        "response headers",
        "state x action 30/30",
        "list parameters 3/3",
    ):
        assert share in report.coverage, report.coverage


class Dying:
    """An app that answers ``lives`` requests, then stops its server: a target that crashes mid-run."""

    def __init__(self, app: WsgiApp, lives: int) -> None:
        self.app = app
        self.lives = lives
        self.server: ThreadedServer | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.lives -= 1
        if self.lives == 0 and self.server is not None:
            threading.Thread(target=self.server.stop, daemon=True).start()
        return self.app(environ, start_response)


def test_a_target_that_stops_answering_keeps_the_failures_found_so_far(contract: Contract) -> None:
    dying = Dying(planted_faults.forbidden_move_accepted(contract), lives=150)
    server = ThreadedServer(dying, threads=4)
    dying.server = server
    with server:
        request = CheckRequest(
            spec=str(CANONICAL_SPEC), base_url=server.base_url, api_key=KEY, only=("lifecycle", "listing", "auth"),
            timer_step_seconds=0.5,
        )  # fmt: skip
        report = run_check(request, progress=lambda line: None)
    assert report.stopped is not None
    assert "the target stopped answering at request" in report.stopped
    assert "lifecycle.forbidden-move" in report.broken_rules()
    assert not report.conformant
    assert "Run ended early: the target stopped answering" in render_text(report)


CHROMIUM_PROBE = """<!doctype html><html><body><iframe id="r" src="report.html" width="1200" height="900"></iframe>
<pre id="result"></pre><script>
document.getElementById('r').addEventListener('load', () => {
  const doc = document.getElementById('r').contentDocument;
  const cells = [...doc.querySelectorAll('table.matrix td')].map(td => {
    const link = td.querySelector('a');
    const href = link ? link.getAttribute('href') : null;
    return {state: td.dataset.state, action: td.dataset.action, result: td.dataset.result,
            color: getComputedStyle(td).backgroundColor, href,
            target: href ? !!doc.getElementById(href.slice(1)) : null};
  });
  const failing = [...doc.querySelectorAll('svg .edge.failing path')].map(p => getComputedStyle(p).stroke);
  const header = getComputedStyle(doc.querySelector('header')).backgroundColor;
  document.getElementById('result').textContent = JSON.stringify({cells, failing, header,
    failures: doc.querySelectorAll('article.failure').length, scripts: doc.scripts.length,
    external: [...doc.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || e.getAttribute('href'))
      .filter(u => !u.startsWith('#'))});
});
</script></body></html>"""


def test_the_html_report_shows_the_matrix_coloured_with_links_to_failures_in_chromium(
    contract: Contract, tmp_path: Path
) -> None:
    require_chromium()
    with ThreadedServer(planted_faults.success_changes_nothing(contract)) as server:
        result = run_cli(
            "check", "--spec", str(CANONICAL_SPEC), "--base-url", server.base_url, "--api-key", KEY,
            "--only", "lifecycle", "--timer-step", "0.5", "--html", str(tmp_path / "report.html"),
        )  # fmt: skip
    assert result.returncode == 1
    (tmp_path / "probe.html").write_text(CHROMIUM_PROBE)
    with served_folder(tmp_path) as root:
        dom = rendered_dom(root + "/probe.html")
    seen = json.loads(html.unescape(dom.split('<pre id="result">', 1)[1].split("</pre>", 1)[0]))
    cells = {(cell["state"], cell["action"]): cell for cell in seen["cells"]}
    assert len(cells) == 6 * 5
    broken = cells[("active", "pause")]  # the planted fault: pause answers success and changes nothing
    assert (broken["result"], broken["color"]) == ("fail", "rgb(255, 205, 210)")
    assert broken["href"].startswith("#failure-")
    assert broken["target"] is True  # the link lands on a failure with its curl lines
    assert cells[("draft", "activate")]["color"] == "rgb(200, 230, 201)"  # green: passed
    assert "rgb(198, 40, 40)" in seen["failing"]  # the pause arrows drawn red
    assert seen["header"] == "rgb(198, 40, 40)"
    assert seen["failures"] >= 1
    assert seen["scripts"] == 0  # self-contained: no script,
    assert seen["external"] == []  # and nothing fetched


def test_the_docs_minimal_spec_is_served_and_checked_conformant(tmp_path: Path) -> None:
    guide = (CANONICAL_SPEC.parent.parent / "docs" / "guides" / "write-a-profile.md").read_text()
    example = guide.split("Annotating an existing spec from scratch")[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = tmp_path / "my-spec.yaml"
    spec.write_text(example)
    assert run_cli("lint", str(spec)).returncode == 1  # the links it still lacks, as the guide says
    with serving("--spec", str(spec), "--lint", "warn", "--no-request-log") as served:
        checked = run_cli("check", "--spec", str(spec), "--base-url", served.url, "--skip", "stateful", timeout=180)
        served.interrupt()
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "state x action 6/6" in checked.stdout

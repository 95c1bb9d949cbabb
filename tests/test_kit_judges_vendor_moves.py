"""The kit judges refusals, copies, deletes refused by state, stamping actions and delayed
timers on any implementation: the mock of the variant contract passes, and a mock built from
that contract with one rule dropped (a server that breaks that one promise) fails the rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings
from campaign_mock.server.run.threaded import ThreadedServer
from tests.conftest import REPO
from tests.lifecycle_variant import variant_document, write_variant
from tests.planted_faults import Answer, Rewrite

KEY = "vendor-moves-key"
Break = Callable[[dict[str, Any]], None]


def _judge(tmp_path: Path, served: dict[str, Any]) -> Report:
    promised = write_variant(tmp_path)
    broken = tmp_path / "served.yaml"
    broken.write_text(yaml.safe_dump(served, sort_keys=False))
    assembled = assemble(ServeSettings(spec=str(broken), api_keys=[KEY], log_requests=False, port=0, lint="warn"))
    with ThreadedServer(assembled.app, threads=8) as server:
        request = CheckRequest(
            spec=str(promised), base_url=server.base_url, api_key=KEY, only=("lifecycle",), timer_step_seconds=0.5
        )
        return run_check(request, progress=lambda line: None)


def test_the_mock_of_the_variant_contract_keeps_every_promise(tmp_path: Path) -> None:
    report = _judge(tmp_path, variant_document())
    assert report.conformant, [(o.rule, o.operation, o.expected, o.received) for o in report.failures][:5]
    judged = {outcome.rule for outcome in report.groups[0].outcomes if str(outcome.verdict) == "passed"}
    assert {"lifecycle.refusal", "lifecycle.copy", "lifecycle.delete-refused", "lifecycle.action-stamps"} <= judged


def _lifecycle(document: dict[str, Any]) -> dict[str, Any]:
    lifecycle: dict[str, Any] = document["x-lifecycle"]
    return lifecycle


def _no_refusals(document: dict[str, Any]) -> None:
    move = _lifecycle(document)["transitions"]["schedule"]
    move["when"] = [guard for guard in move["when"] if "refuse" not in guard]


def _copy_resets_too_much(document: dict[str, Any]) -> None:
    _lifecycle(document)["copies"]["duplicate"]["reset"]["name"] = "Copy"


def _copy_from_anywhere(document: dict[str, Any]) -> None:
    del _lifecycle(document)["copies"]["duplicate"]["from"]


def _deletes_anywhere(document: dict[str, Any]) -> None:
    del _lifecycle(document)["deletes"]


def _send_stamps_nothing(document: dict[str, Any]) -> None:
    del _lifecycle(document)["transitions"]["send"]["stamps"]


def _no_delay(document: dict[str, Any]) -> None:
    for timer in _lifecycle(document)["timers"]:
        timer.pop("delay", None)


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        (_no_refusals, "lifecycle.refusal"),
        (_copy_resets_too_much, "lifecycle.copy"),
        (_copy_from_anywhere, "lifecycle.copy"),
        (_deletes_anywhere, "lifecycle.delete-refused"),
        (_send_stamps_nothing, "lifecycle.action-stamps"),
        (_no_delay, "lifecycle.move-visible"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)).strip("_"),
)
def test_a_server_that_breaks_one_rule_fails_that_rule(tmp_path: Path, fault: Break, rule: str) -> None:
    served = variant_document()
    fault(served)
    report = _judge(tmp_path, served)
    assert rule in {outcome.rule for outcome in report.failures}, sorted({o.rule for o in report.failures})


def test_a_list_that_ignores_a_member_filter_fails_the_member_filter_rule(tmp_path: Path) -> None:
    promised = REPO / "openapi" / "profiles" / "brevo.yaml"
    served = yaml.safe_load(promised.read_text())
    del served["paths"]["/emailCampaigns"]["get"]["x-operation"]["filters"]
    broken = tmp_path / "brevo-unfiltered.yaml"
    broken.write_text(yaml.safe_dump(served, sort_keys=False))
    assembled = assemble(ServeSettings(spec=str(broken), api_keys=[KEY], log_requests=False, port=0))
    with ThreadedServer(assembled.app, threads=8) as server:
        request = CheckRequest(spec=str(promised), base_url=server.base_url, api_key=KEY, only=("listing",))
        report = run_check(request, progress=lambda line: None)
    assert {outcome.rule for outcome in report.failures} == {"listing.member-filter"}


def test_an_error_code_other_than_the_one_the_contract_maps_is_caught(tmp_path: Path) -> None:
    promised = REPO / "openapi" / "profiles" / "brevo.yaml"
    app = assemble(ServeSettings(spec=str(promised), api_keys=[KEY], log_requests=False, port=0)).app

    def answer(environ: dict[str, Any], result: Answer) -> Answer:
        status, headers, body = result
        return status, headers, body.replace(b'"document_not_found"', b'"not_found"')

    with ThreadedServer(Rewrite(app, answer), threads=8) as server:
        request = CheckRequest(spec=str(promised), base_url=server.base_url, api_key=KEY, only=("errors",))
        report = run_check(request, progress=lambda line: None)
    assert {outcome.rule for outcome in report.failures} == {"errors.vendor-code"}

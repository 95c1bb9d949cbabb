"""The report speaks of the contract's promises, one by one: each checked, broken or not
checked with its reason, in the text report and the HTML page alike."""

from __future__ import annotations

from campaign_mock.conformance.html_report import render_html
from campaign_mock.conformance.promises import Standing
from campaign_mock.conformance.report import render_text
from campaign_mock.contract.operations import Contract
from tests import planted_faults
from tests.test_kit_catches_faults import check


def test_every_kind_of_promise_is_enumerated_and_judged_on_the_unbroken_mock(contract: Contract) -> None:
    report = check(planted_faults.mock_app(contract), "lifecycle", "updates", "listing", "auth", "errors", "headers")
    kinds = {promise.kind for promise in report.promises}
    assert kinds == {"status", "header", "move", "clock", "parameter", "credential", "member"}
    assert not [p for p in report.promises if p.standing is Standing.BROKEN]
    moves = [p for p in report.promises if p.kind == "move"]
    assert len(moves) == len(contract.lifecycle.states) * len(contract.lifecycle.transitions)
    assert all(p.standing is Standing.CHECKED for p in moves)
    unchecked = [p for p in report.promises if p.standing is Standing.NOT_CHECKED]
    assert unchecked
    assert all(p.why for p in unchecked), [p.subject for p in unchecked if not p.why]
    assert "Promises: " in render_text(report)


def test_a_broken_move_is_a_broken_promise_in_text_and_html(contract: Contract) -> None:
    report = check(planted_faults.terminal_reopened(contract), "lifecycle")
    broken = [p for p in report.promises if p.standing is Standing.BROKEN]
    assert any(p.kind == "move" and p.subject.startswith(("canceled x", "completed x")) for p in broken), broken
    page = render_html(report)
    assert 'data-standing="broken"' in page
    assert "<h2>Promises</h2>" in page
    assert " broken," in render_text(report)

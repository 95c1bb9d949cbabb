"""The kit as pytest tests: one test per rule group, failing with the kit's report of it.

pytest --pyargs campaign_mock.conformance --base-url http://127.0.0.1:8080 --conformance-api-key KEY
"""

from __future__ import annotations

import os

import pytest

from campaign_mock.conformance.report import render_text
from campaign_mock.conformance.results import UsageError, Verdict
from campaign_mock.conformance.runner import GROUPS, CheckRequest, Report, run_check

PYTEST_OPTIONS = {
    "spec": "--conformance-spec",
    "base_url": "--base-url",
    "api_key": "--conformance-api-key",
    "only": "--conformance-only",
    "skip": "--conformance-skip",
    "sandbox": "--conformance-sandbox",
}
"""The pytest spelling of the options a usage error points at."""


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _sandbox(given: str | None) -> str:
    """Under pytest-xdist every worker runs the whole kit against the one target: side by side
    they would move each other's totals, so each works in a sandbox of its own by default."""
    if given:
        return given
    return "auto" if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1 else "off"


@pytest.fixture(scope="session")
def conformance_report(pytestconfig: pytest.Config) -> Report:
    base_url = pytestconfig.getoption("base_url")
    if not base_url:
        # Checking nothing must never pass: without a target, every group fails.
        pytest.fail(
            "campaign-mock conformance needs the implementation to check: give --base-url URL "
            "(and --conformance-api-key KEY, --conformance-spec SPEC)",
            pytrace=False,
        )
    pairs = (text.partition(":") for text in pytestconfig.getoption("conformance_header"))
    headers = {name.strip(): value.strip() for name, _, value in pairs}
    request = CheckRequest(
        spec=pytestconfig.getoption("conformance_spec"),
        base_url=base_url,
        api_key=pytestconfig.getoption("conformance_api_key"),
        headers=headers,
        seed=pytestconfig.getoption("conformance_seed"),
        max_examples=pytestconfig.getoption("conformance_max_examples"),
        only=_names(pytestconfig.getoption("conformance_only")),
        skip=_names(pytestconfig.getoption("conformance_skip")),
        option_names=PYTEST_OPTIONS,
        allow_unchecked=bool(pytestconfig.getoption("conformance_allow_unchecked")),
        sandbox=_sandbox(pytestconfig.getoption("conformance_sandbox")),
    )
    try:
        return run_check(request, progress=lambda line: None)
    except UsageError as exc:
        pytest.fail(f"cannot run the kit: {exc}", pytrace=False)


@pytest.mark.parametrize("group", list(GROUPS))
def test_rule_group(conformance_report: Report, group: str) -> None:
    results = [result for result in conformance_report.groups if result.group == group]
    if not results:
        pytest.skip(f"{group} was not selected")
    outcomes = results[0].outcomes
    if results[0].checked_nothing and not conformance_report.allow_unchecked:
        only_this = Report(conformance_report.spec, conformance_report.base_url, results, results[0].seconds)
        pytest.fail(
            "checked nothing (a group that checks nothing is no pass):\n" + render_text(only_this), pytrace=False
        )
    if outcomes and all(outcome.verdict is Verdict.SKIPPED for outcome in outcomes):
        pytest.skip("; ".join(sorted({outcome.note for outcome in outcomes})))
    if any(outcome.failed for outcome in outcomes):
        only_this = Report(conformance_report.spec, conformance_report.base_url, results, results[0].seconds)
        pytest.fail(render_text(only_this), pytrace=False)

"""The kit is only as good as the faults it catches: each planted fault fails the right rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.contract.operations import Contract
from campaign_mock.contract.ratelimits import parse_windows
from campaign_mock.server.threaded import ThreadedServer
from campaign_mock.server.traffic import RateLimitPolicy
from tests import planted_faults
from tests.conftest import CANONICAL_SPEC
from tests.planted_faults import KEY, WsgiApp


def check(app: WsgiApp, *groups: str, spec: str = str(CANONICAL_SPEC)) -> Report:
    with ThreadedServer(app, threads=4) as server:
        served_spec = spec.replace("{base}", server.base_url)
        request = CheckRequest(
            spec=served_spec, base_url=server.base_url, api_key=KEY, only=groups, max_examples=5, timer_step_seconds=0.5
        )
        return run_check(request, progress=lambda line: None)


def test_the_unbroken_mock_passes_every_group(contract: Contract) -> None:
    report = check(planted_faults.mock_app(contract))
    assert report.conformant, [(o.rule, o.operation, o.expected, o.received) for o in report.failures][:5]
    assert {group.group for group in report.groups} == {
        "schema",
        "stateful",
        "lifecycle",
        "listing",
        "auth",
        "errors",
        "rate-limit",
    }


FAULTS: list[tuple[str, Callable[[Contract], WsgiApp], tuple[str, ...], str]] = [
    ("a forbidden move accepted", planted_faults.forbidden_move_accepted, ("lifecycle",), "lifecycle.forbidden-move"),
    ("the wrong conflict status", planted_faults.wrong_conflict_status, ("lifecycle",), "lifecycle.forbidden-move"),
    (
        "an error body missing its fields",
        planted_faults.error_body_missing_fields,
        ("lifecycle", "errors"),
        "errors.schema",
    ),
    ("a read that still shows the old state", planted_faults.stale_read, ("lifecycle",), "lifecycle.move-visible"),
    ("a terminal campaign re-opened", planted_faults.terminal_reopened, ("lifecycle",), "lifecycle.terminal-stays"),
    (
        "a transition that answers success but changes nothing",
        planted_faults.success_changes_nothing,
        ("lifecycle",),
        "lifecycle.move-visible",
    ),
    ("credentials ignored", planted_faults.credentials_ignored, ("auth",), "auth.refused"),
    ("a list that ignores its filter", planted_faults.list_ignores_filter, ("listing",), "listing.filter"),
    ("a list total off by one", planted_faults.total_off_by_one, ("listing",), "listing.total"),
    ("create answering 200", planted_faults.create_answers_200, ("lifecycle",), "lifecycle.create"),
    (
        "create answering 200 (schemathesis)",
        planted_faults.create_answers_200,
        ("schema",),
        "schema.status_code_conformance",
    ),
    ("a delete that deletes nothing", planted_faults.delete_deletes_nothing, ("lifecycle",), "lifecycle.deleted-gone"),
    ("a wrong content type", planted_faults.wrong_content_type, ("schema",), "schema.content_type_conformance"),
    ("events not recorded", planted_faults.events_not_recorded, ("lifecycle",), "lifecycle.event-recorded"),
]


@pytest.mark.parametrize(("fault", "plant", "groups", "rule"), FAULTS, ids=[fault[0] for fault in FAULTS])
def test_each_planted_fault_is_reported_by_its_rule(
    contract: Contract, fault: str, plant: Callable[[Contract], WsgiApp], groups: tuple[str, ...], rule: str
) -> None:
    report = check(plant(contract), *groups)
    assert not report.conformant, f"{fault} went unnoticed"
    assert rule in report.broken_rules(), report.broken_rules()
    failure = next(outcome for outcome in report.failures if outcome.rule == rule)
    assert failure.expected
    assert failure.received


def test_a_429_without_retry_after_is_reported(contract: Contract) -> None:
    policy = RateLimitPolicy(windows=parse_windows("5/s"))
    report = check(planted_faults.no_retry_after(contract, policy), "rate-limit", spec="{base}/openapi.yaml")
    assert "rate-limit.retry-after" in report.broken_rules()


def test_a_limited_mock_passes_with_the_other_groups_pacing_themselves(contract: Contract) -> None:
    policy = RateLimitPolicy(windows=parse_windows("50/s"))
    report = check(planted_faults.mock_app(contract, policy), "rate-limit", "lifecycle", spec="{base}/openapi.yaml")
    assert report.conformant, [(o.rule, o.expected, o.received) for o in report.failures]
    assert {o.rule for o in report.outcomes if o.group == "rate-limit"} >= {
        "rate-limit.enforced",
        "rate-limit.retry-after",
        "rate-limit.headers",
        "rate-limit.recovery",
    }


def test_a_stateless_mock_fails_and_the_lifecycle_rules_are_named(contract: Contract) -> None:
    report = check(planted_faults.stateless_examples(contract), "lifecycle")
    assert not report.conformant
    broken = report.broken_rules()
    assert {"lifecycle.move-visible", "lifecycle.forbidden-move"} <= set(broken), broken

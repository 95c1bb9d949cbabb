"""The kit is only as good as the faults it catches: each planted fault fails the right rule."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from campaign_mock.conformance.runner import CheckRequest, Report, run_check
from campaign_mock.contract.operations import Contract
from campaign_mock.contract.ratelimits import parse_windows
from campaign_mock.server.run.assembly import load_checked_contract
from campaign_mock.server.run.threaded import ThreadedServer
from campaign_mock.server.traffic.traffic import RateLimitPolicy
from tests import planted_faults
from tests.conftest import CANONICAL_SPEC, REPO
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
        "updates",
        "headers",
        "listing",
        "auth",
        "errors",
        "rate-limit",
    }


FAULTS: list[tuple[str, Callable[[Contract], WsgiApp], tuple[str, ...], str]] = [
    (
        "an If-Match list of stale tags taken as no If-Match",
        planted_faults.if_match_list_taken_as_no_precondition,
        ("headers",),
        "headers.if-match-list",
    ),
    (
        "a delete refused once a campaign has moved",
        planted_faults.delete_refused_once_active,
        ("lifecycle",),
        "lifecycle.delete",
    ),
    ("integers written as 50.0", planted_faults.integers_written_as_fractions, ("headers",), "headers.integers"),
    (
        "a refused move that still writes the campaign",
        planted_faults.forbidden_move_touches_the_campaign,
        ("lifecycle",),
        "lifecycle.forbidden-changes-nothing",
    ),
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
    ("a deleted campaign still listed", planted_faults.deleted_stays_listed, ("listing",), "listing.deleted-gone"),
    ("an update that ignores a member", planted_faults.update_ignores_a_member, ("updates",), "updates.lands"),
    (
        "an update that replaces a nested object",
        planted_faults.update_replaces_nested_objects,
        ("updates",),
        "updates.merges",
    ),
    (
        "an update that changes another member",
        planted_faults.update_changes_another_member,
        ("updates",),
        "updates.nothing-else",
    ),
    ("an ETag that never changes", planted_faults.etag_never_changes, ("headers",), "headers.etag-changes"),
    ("an ETag that changes on reads", planted_faults.etag_changes_on_reads, ("headers",), "headers.etag-stable"),
    ("a stale If-Match accepted", planted_faults.stale_if_match_accepted, ("headers",), "headers.if-match-stale"),
    ("a Location that points elsewhere", planted_faults.location_points_elsewhere, ("headers",), "headers.location"),
    (
        "a move that also writes a member no move sets",
        planted_faults.activate_also_writes_start_at,
        ("lifecycle",),
        "lifecycle.move-changes-only-its-members",
    ),
    ("an updated_at that never moves", planted_faults.updated_at_never_moves, ("lifecycle",), "lifecycle.stamps"),
    (
        "a guarded move recorded as landing where the plain move would",
        planted_faults.guarded_event_records_the_plain_target,
        ("lifecycle",),
        "lifecycle.history-chain",
    ),
    (
        "an ETag moved by updates only, so If-Match from before an action passes",
        planted_faults.version_bumped_by_updates_only,
        ("headers",),
        "headers.if-match-stale",
    ),
    (
        "a merge patch that resets the nested members it leaves out to their defaults",
        planted_faults.patch_fills_left_out_members_with_defaults,
        ("updates",),
        "updates.merges",
    ),
    (
        "two ordered times at the same moment accepted",
        planted_faults.equal_ordered_times_accepted,
        ("lifecycle",),
        "lifecycle.ordered-times",
    ),
    (
        "a valid key accepted in a place the contract does not name",
        planted_faults.key_accepted_in_the_query,
        ("auth",),
        "auth.only-where-documented",
    ),
    (
        "has_more true on an exactly full last page",
        planted_faults.has_more_when_the_page_is_full,
        ("listing",),
        "listing.bounds",
    ),
    (
        "an unknown action route answering 409",
        planted_faults.unknown_action_answers_409,
        ("errors",),
        "errors.unknown-route",
    ),
    ("a key compared by its prefix", planted_faults.key_compared_by_prefix, ("auth",), "auth.refused"),
    ("JSON answers declared iso-8859-1", planted_faults.latin1_answers, ("headers",), "headers.charset"),
    (
        "a list ordered by the last write, not the declared order",
        planted_faults.list_ordered_by_last_write,
        ("listing",),
        "listing.order",
    ),
    (
        "an undocumented PUT taken as the update",
        planted_faults.put_treated_as_patch,
        ("errors",),
        "errors.unknown-method",
    ),
    (
        "a filter that takes only its first value",
        planted_faults.multi_filter_takes_the_first_value,
        ("listing",),
        "listing.multi-filter",
    ),
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


def test_a_remaining_count_that_never_falls_is_reported(contract: Contract) -> None:
    policy = RateLimitPolicy(windows=parse_windows("5/s"))
    report = check(planted_faults.remaining_never_falls(contract, policy), "rate-limit", spec="{base}/openapi.yaml")
    assert "rate-limit.header-values" in report.broken_rules(), report.broken_rules()


def test_a_limited_mock_passes_with_the_other_groups_pacing_themselves(contract: Contract) -> None:
    policy = RateLimitPolicy(windows=parse_windows("50/s"))
    report = check(planted_faults.mock_app(contract, policy), "rate-limit", "lifecycle", spec="{base}/openapi.yaml")
    assert report.conformant, [(o.rule, o.expected, o.received) for o in report.failures]
    assert {o.rule for o in report.outcomes if o.group == "rate-limit"} >= {
        "rate-limit.enforced",
        "rate-limit.retry-after",
        "rate-limit.headers",
        "rate-limit.recovery",
        "rate-limit.header-values",
    }


def test_a_stateless_mock_fails_and_the_lifecycle_rules_are_named(contract: Contract) -> None:
    report = check(planted_faults.stateless_examples(contract), "lifecycle")
    assert not report.conformant
    broken = report.broken_rules()
    assert {"lifecycle.move-visible", "lifecycle.forbidden-move"} <= set(broken), broken


OCAMBA_SPEC = str(REPO / "openapi" / "profiles" / "ocamba.yaml")


@pytest.mark.parametrize(("parameter", "rule"), [("sort", "listing.sort"), ("q", "listing.search")])
def test_a_list_that_ignores_a_documented_sort_or_search_is_reported(parameter: str, rule: str) -> None:
    ocamba = load_checked_contract(OCAMBA_SPEC)
    report = check(planted_faults.query_parameter_ignored(ocamba, parameter), "listing", spec=OCAMBA_SPEC)
    assert rule in report.broken_rules(), report.broken_rules()


def test_every_429_of_a_burst_needs_retry_after_not_only_the_first(contract: Contract) -> None:
    policy = RateLimitPolicy(windows=parse_windows("5/s"))
    report = check(
        planted_faults.retry_after_only_on_the_first_429(contract, policy), "rate-limit", spec="{base}/openapi.yaml"
    )
    assert "rate-limit.retry-after" in report.broken_rules()

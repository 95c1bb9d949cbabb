"""The lifecycle's rules beyond routing, judged on any implementation: refusals (a request
member the contract refuses, say a schedule time in the past or off a quarter hour), copies
(a new campaign made from an existing one), and deletes refused in some states.

- ``lifecycle.refusal``: from a state the action may leave, a body that breaks one refusal
  answers the refusal's status with a documented error body and changes nothing.
- ``lifecycle.copy``: a copy from a state it is allowed from answers success with a new
  campaign in the initial state, the ``reset`` members reset and the others copied; the
  source is unchanged; from another state the conflict status; of a missing campaign 404.
- ``lifecycle.delete-refused``: a delete in a state ``deletes.in`` leaves out answers its
  status and the campaign stays; ``lifecycle.delete``: in every state it allows (every state,
  without ``deletes``) a delete succeeds and the campaign is gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from campaign_mock.conformance.context import Scenario
from campaign_mock.conformance.groups.refused import Refused
from campaign_mock.contract.lifecycle import Refusal, next_on_grid
from campaign_mock.contract.timefmt import format_timestamp

if TYPE_CHECKING:
    from campaign_mock.conformance.groups.lifecycle import LifecycleChecks, Plan
    from campaign_mock.contract.operations import Operation

FAR = timedelta(days=30)
PAST = timedelta(days=1)


def passing_moment(refusals: list[Refusal], now: datetime) -> datetime:
    """A time no refusal of one member refuses: in the future unless a refusal wants the past,
    on every refusal's grid."""
    moment = now - PAST if any(rule.after_now for rule in refusals) else now + FAR
    for rule in refusals:
        if rule.step is not None:
            moment = next_on_grid(moment, rule.step)
    return moment


def _breaking(rule: Refusal, passing: datetime, now: datetime) -> tuple[datetime | None, str] | None:
    """A value of the member that breaks ``rule`` (None: leave the member out), and its name."""
    if rule.missing:
        return None, "missing"
    if rule.before_now:
        return (next_on_grid(now - PAST, rule.step) if rule.step else now - PAST), "in the past"
    if rule.after_now:
        return (next_on_grid(now + FAR, rule.step) if rule.step else now + FAR), "in the future"
    if rule.step is not None and rule.step >= timedelta(seconds=2):
        return passing + rule.step / 2, "off its grid"
    return None


def check_refusals(checks: LifecycleChecks, plans: dict[str, Plan]) -> None:
    lifecycle = checks.lifecycle
    judged = False
    for action, move in lifecycle.transitions.items():
        operation = checks.view.transition(action)
        state = next((state for state in plans if state in move.sources), None)
        if operation is None or state is None:
            continue
        for rule in move.refusals:
            if rule.param is not None:
                judged = True
                _check_one_refusal(checks, plans[state], state, action, operation, rule)
            elif rule.field is not None and checks.view.accepts_on_create(rule.field):
                judged = _check_field_refusal(checks, action, operation, rule) or judged
    if not judged:
        checks.result.not_applicable("lifecycle.refusal", "-", "no action refuses a request member")


def _check_one_refusal(
    checks: LifecycleChecks, plan: Plan, state: str, action: str, operation: Operation, rule: Refusal
) -> None:
    param = str(rule.param)
    now = checks.now()
    passing = passing_moment([r for r in checks.lifecycle.transitions[action].refusals if r.param == param], now)
    broken = _breaking(rule, passing, now)
    if broken is None:
        return
    value, how = broken
    content_type, body = checks.action_body(action)
    sent: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
    sent.pop(param, None)
    if value is not None:
        sent[param] = checks.view.future_member(operation, param, value)
    expected_rule = checks.lifecycle.refusal(action, lambda name: None, now, sent)
    if expected_rule is None:
        return
    reached = checks.reach_and_read(plan, state)
    if reached is None:
        return
    scenario, campaign_id, before, events_before = reached
    exchange = scenario.send(
        operation,
        path_values=checks.path_values(operation, campaign_id),
        json_body=sent,
        content_type=content_type or "application/json",
    )
    label = f"{operation.operation_id} from {state} with {param} {how}"
    refused = Refused("lifecycle.refusal", label, expected_rule.status, expected_rule.describe(), "action-refused")
    checks.judge_refused(scenario, exchange, operation, refused, (campaign_id, state, before, events_before))


def _check_field_refusal(checks: LifecycleChecks, action: str, operation: Operation, rule: Refusal) -> bool:
    """A campaign created in a state the action may leave, its time ``field`` missing or in the
    past as the refusal reads it: the action answers the refusal's status and changes nothing."""
    lifecycle, field = checks.lifecycle, str(rule.field)
    state = next((state for state in lifecycle.creatable() if state in lifecycle.transitions[action].sources), None)
    if state is None:
        return False
    now = checks.now()
    value = None if rule.missing else (now - PAST if rule.before_now else now + FAR if rule.after_now else None)
    if value is None and not rule.missing:
        return False
    times = {} if value is None else {field: format_timestamp(value)}

    def read(name: str) -> datetime | None:
        return value if name == field else None

    expected = lifecycle.refusal(action, read, now, checks.action_params(action))
    if expected is None:
        return False
    scenario = Scenario(checks.context)
    campaign_id = checks.create(scenario, times, state)
    if campaign_id is None:
        return True
    how = "missing" if value is None else f"at {times[field]}"
    label = f"{operation.operation_id} from {state} with {field} {how}"
    before = checks.read_campaign(scenario, campaign_id)
    events_before = checks.read_events(scenario, campaign_id)
    exchange = checks.act(scenario, action, campaign_id)
    if exchange is None:
        return True
    refused = Refused("lifecycle.refusal", label, expected.status, expected.describe(), "action-refused")
    checks.judge_refused(scenario, exchange, operation, refused, (campaign_id, state, before, events_before))
    return True


def check_copies(checks: LifecycleChecks, plans: dict[str, Plan]) -> None:
    lifecycle = checks.lifecycle
    if not lifecycle.copies:
        checks.result.not_applicable("lifecycle.copy", "-", "the lifecycle declares no copy")
        return
    for name, rule in lifecycle.copies.items():
        operations = [
            op for op in checks.view.contract.operations if op.kind in ("copy", "transition") and op.serves(name)
        ]
        if not operations:
            checks.result.skipped("lifecycle.copy", name, f"the spec has no operation for {name}")
        for operation in operations:
            for state, plan in plans.items():
                _check_one_copy(checks, plan, state, name, operation, rule.allowed_from(state))
            _check_copy_of_missing(checks, name, operation)


def _check_copy_of_missing(checks: LifecycleChecks, name: str, operation: Operation) -> None:
    missing = operation.action_body(name)
    path = {str(checks.view.id_parameter(operation)): checks.view.unknown_id(operation)}
    scenario = Scenario(checks.context)
    gone = scenario.send(
        operation, path_values=path, json_body=missing, content_type="application/json" if missing else None
    )
    checks.result.check(
        gone.status == 404,
        "lifecycle.copy",
        f"{operation.operation_id} of a missing campaign",
        "404",
        gone.brief(),
        scenario.steps(),
    )


def _check_one_copy(
    checks: LifecycleChecks, plan: Plan, state: str, name: str, operation: Operation, allowed: bool
) -> None:
    reached = checks.reach(plan, state)
    if reached is None:
        return
    scenario, source_id = reached
    before = checks.read_campaign(scenario, source_id)
    content_type, body = None, operation.action_body(name)
    if body is not None:
        content_type = "application/json"
    exchange = scenario.send(
        operation, path_values=checks.path_values(operation, source_id), json_body=body, content_type=content_type
    )
    label = f"{operation.operation_id} from {state}"
    if not allowed:
        conflict = checks.lifecycle.conflict_status
        if checks.result.check(
            exchange.status == conflict,
            "lifecycle.copy",
            label,
            f"{conflict} ({name} is not allowed from {state})",
            exchange.brief(),
            scenario.steps(),
        ):
            checks.check_error_body("lifecycle.conflict-body", operation, exchange, label, scenario)
        return
    if not checks.result.check(
        exchange.status == operation.success_status(),
        "lifecycle.copy",
        label,
        f"{operation.success_status()} ({name} is allowed from {state})",
        exchange.brief(),
        scenario.steps(),
    ):
        return
    after = checks.read_campaign(scenario, source_id)
    if before is not None and after is not None:
        checks.result.check(
            after == before,
            "lifecycle.copy",
            f"{label}: the source",
            "the source campaign unchanged",
            "; ".join(
                f"{k}: {before.get(k)!r} -> {after.get(k)!r}"
                for k in sorted(set(before) | set(after))
                if before.get(k) != after.get(k)
            ),
            scenario.steps(),
        )
    made = checks.view.campaign_in(operation, exchange.json()) if checks.view.answers_campaign(operation) else None
    if not isinstance(made, dict) or before is None:
        return
    _check_the_copy(checks, before, made, name, label, scenario)


def _check_the_copy(
    checks: LifecycleChecks, source: dict[str, Any], made: dict[str, Any], name: str, label: str, scenario: Any
) -> None:
    lifecycle = checks.lifecycle
    id_field = checks.id_field
    reset = lifecycle.copies[name].reset_values(source)
    skip = {id_field, lifecycle.status_field, *checks.view.stamps(), *reset}
    wrong = [f"{id_field} is the source's"] if made.get(id_field) == source.get(id_field) else []
    if made.get(lifecycle.status_field) != lifecycle.initial:
        wrong.append(f"{lifecycle.status_field} {made.get(lifecycle.status_field)!r}, not {lifecycle.initial!r}")
    wrong += [
        f"{member} {made.get(member)!r}, not reset to {value!r}"
        for member, value in reset.items()
        if made.get(member) != value
    ]
    wrong += [
        f"{member} {made.get(member)!r}, the source has {value!r}"
        for member, value in source.items()
        if member not in skip and made.get(member) != value
    ]
    checks.result.check(
        not wrong,
        "lifecycle.copy",
        f"{label}: the copy",
        f"a new campaign in {lifecycle.initial!r}, {', '.join(reset) or 'nothing'} reset, the rest copied",
        "; ".join(wrong),
        scenario.steps(),
    )


def check_deletes_refused(checks: LifecycleChecks, plans: dict[str, Plan]) -> None:
    lifecycle = checks.lifecycle
    deleter = checks.view.one("delete")
    if deleter is None:
        return
    if lifecycle.deletable is None:
        checks.result.not_applicable("lifecycle.delete-refused", "-", "every state may be deleted")
    status = lifecycle.delete_refusal_status()
    first_deletable = next((state for state in plans if lifecycle.may_delete(state)), None)
    for state, plan in plans.items():
        if lifecycle.may_delete(state):
            if state != first_deletable:  # that one is lifecycle.check_delete's, with its reads after
                _check_delete_allowed(checks, deleter, plan, state)
            continue
        reached = checks.reach_and_read(plan, state)
        if reached is None:
            continue
        scenario, campaign_id, before, events_before = reached
        exchange = scenario.send(deleter, path_values=checks.path_values(deleter, campaign_id))
        label = f"{deleter.operation_id} in {state}"
        why = f"a {state} campaign may not be deleted"
        refused = Refused("lifecycle.delete-refused", label, status, why, "state-conflict")
        checks.judge_refused(scenario, exchange, deleter, refused, (campaign_id, state, before, events_before))


def _check_delete_allowed(checks: LifecycleChecks, deleter: Operation, plan: Plan, state: str) -> None:
    """A delete in a state ``deletes.in`` names succeeds, and the campaign is gone."""
    reached = checks.reach(plan, state)
    if reached is None:
        return
    scenario, campaign_id = reached
    exchange = scenario.send(deleter, path_values=checks.path_values(deleter, campaign_id))
    gone = checks.read_status(scenario, campaign_id)[1] if checks.reader is not None else None
    checks.result.check(
        exchange.status == deleter.success_status() and (gone is None or gone.status == 404),
        "lifecycle.delete",
        f"{deleter.operation_id} in {state}",
        f"{deleter.success_status()}, then 404 ({state} is among deletes.in)",
        f"{exchange.brief()}; then {gone.brief() if gone else 'no read'}",
        scenario.steps(),
    )

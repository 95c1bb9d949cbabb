"""``lifecycle``: every state x every action, as the spec's ``x-lifecycle`` says.

For each state the kit plans a way there from the initial state (actions, and a future
time where a guard needs one), brings a fresh campaign there, applies each action and
checks: allowed moves answer success and land where the lifecycle says, visible on a later
read and in the event history; forbidden ones answer the conflict status with a documented
error body and change nothing; terminal states never move again, not even by update; a
deleted campaign is gone; clock-driven moves happen when their time has passed.

Longer than the house's ~300 lines because every rule here shares one way of bringing a
campaign into a state (``Plan``, ``reach``) and of reading it back; the pure judges live
apart (``conformance.members``), and the next split is the planning (``plan_routes``,
``simulate``) into a module of its own.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from campaign_mock.conformance import members
from campaign_mock.conformance.context import KitContext, Scenario
from campaign_mock.conformance.groups.refused import Refused
from campaign_mock.conformance.groups.timers import check_every_state
from campaign_mock.conformance.groups.vendor_moves import (
    check_copies,
    check_deletes_refused,
    check_refusals,
    passing_moment,
)
from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import Exchange
from campaign_mock.conformance.vendor_codes import judge_code
from campaign_mock.contract.lifecycle import Lifecycle
from campaign_mock.contract.operations import invalid_body_status
from campaign_mock.contract.timefmt import format_timestamp, parse_timestamp

GROUP = "lifecycle"
FAR_FUTURE = timedelta(days=30)
STAMP_GAP_SECONDS = 1.1  # a write stamp judged past a second's rounding


@dataclass(frozen=True)
class Plan:
    """How to reach a state: created in ``states[0]`` with guard fields set in the future,
    then these actions."""

    future_fields: frozenset[str]
    actions: tuple[str, ...]
    states: tuple[str, ...]  # the state after creation, after each action (and after the wait)
    wait_for: str | None = None  # a time field set just ahead at creation, for a clock move at the end


UPDATE_STEP = "(update)"
"""A step of a plan that sends the documented update, for states only an update reaches."""

VARIANT = "+"
"""``resume+scheduled_time``: a step that sends the action with a guard's request member (a
future time) instead of the documented example, for states only that member leads to."""


def split_step(step: str) -> tuple[str, str | None]:
    action, _, param = step.partition(VARIANT)
    return action, param or None


ActionParams = Callable[[str], Mapping[str, Any]]
"""The body the kit sends for an action (a guard may read it)."""


def _no_params(action: str) -> Mapping[str, Any]:
    return {}


def simulate(
    lifecycle: Lifecycle,
    future_fields: frozenset[str],
    actions: tuple[str, ...],
    start: str | None = None,
    params: ActionParams = _no_params,
) -> tuple[str, ...] | None:
    """States along ``actions`` from ``start`` (the initial one); None if an action is not allowed."""
    far = datetime.max.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    states = [start or lifecycle.initial]
    for step in actions:
        if step == UPDATE_STEP:
            if not lifecycle.may_update(states[-1]):
                return None
            states.append(lifecycle.after_update(states[-1]))
            continue
        action, _ = split_step(step)
        if states[-1] not in lifecycle.transitions[action].sources:
            return None
        read_time = lambda name: far if name in future_fields else None  # noqa: E731
        if lifecycle.refusal(action, read_time, now, params(step)) is not None:
            return None
        landing = lifecycle.landing_state(action, read_time, now, params(step))
        states.append(landing)
    return tuple(states)


def refusal_fields(lifecycle: Lifecycle, action: str, settable: frozenset[str]) -> frozenset[str]:
    """Campaign times ``action``'s refusals read that a create can set (ahead, so none refuses)."""
    move = lifecycle.transitions.get(action)
    refusals = move.refusals if move is not None else ()
    return frozenset(str(rule.field) for rule in refusals if rule.field is not None and rule.field in settable)


def plan_routes(
    lifecycle: Lifecycle, settable: frozenset[str], params: ActionParams = _no_params, updatable: bool = False
) -> dict[str, Plan]:
    """The shortest plan to each reachable state (breadth-first over creation states, actions
    and guards)."""
    found: dict[str, Plan] = {}
    queue: deque[Plan] = deque()
    for state in lifecycle.creatable():
        if state not in found:
            found[state] = Plan(frozenset(), (), (state,))
            queue.append(found[state])
    limit = len(lifecycle.states) + 2
    while queue:
        plan = queue.popleft()
        if len(plan.actions) >= limit:
            continue
        for action, move in lifecycle.transitions.items():
            if plan.states[-1] not in move.sources:
                continue
            # a campaign time a refusal reads (Brevo's queued needs a future scheduledAt) is set ahead
            needed = plan.future_fields | refusal_fields(lifecycle, action, settable)
            options = [(needed, action)]
            options += [(needed | {g.field}, action) for g in move.guards if g.field in settable]
            options += [(needed, f"{action}{VARIANT}{g.param}") for g in move.guards if g.param and g.sets]
            for fields, step in options:
                actions = (*plan.actions, step)
                states = simulate(lifecycle, frozenset(fields), actions, plan.states[0], params)
                if states is not None and states[-1] not in found:
                    found[states[-1]] = Plan(frozenset(fields), actions, states)
                    queue.append(found[states[-1]])
        state = plan.states[-1]
        if updatable and lifecycle.may_update(state) and lifecycle.after_update(state) not in found:
            moved = Plan(
                plan.future_fields, (*plan.actions, UPDATE_STEP), (*plan.states, lifecycle.after_update(state))
            )
            found[moved.states[-1]] = moved
            queue.append(moved)
    for timer in lifecycle.timers:
        if timer.target in found or timer.at_field not in settable:
            continue
        start = next((plan for state, plan in found.items() if state in timer.sources), None)
        if start is not None and timer.at_field not in start.future_fields:
            found[timer.target] = Plan(
                start.future_fields, start.actions, (*start.states, timer.target), wait_for=timer.at_field
            )
    return found


class LifecycleChecks:
    def __init__(self, context: KitContext, result: GroupResult) -> None:
        self.context = context
        self.view = context.view
        self.lifecycle = context.view.lifecycle
        self.result = result
        self.creator = self.view.one("create")
        self.reader = self.view.one("get")
        self.events = self.view.one("events")
        self.id_field = self.view.id_field()
        self.server_offset = timedelta(0)
        self.created: Exchange | None = None  # the last create's exchange (its headers are judged too)

    # -- helpers -------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + self.server_offset

    def _learn_server_time(self, exchange: Exchange) -> None:
        stamp = exchange.response_headers.get("Date")
        if not stamp:
            return
        try:
            offset = parsedate_to_datetime(stamp) - datetime.now(UTC)
        except (TypeError, ValueError):
            return
        self.server_offset = offset if abs(offset) > timedelta(seconds=2) else timedelta(0)

    def plans(self) -> dict[str, Plan]:
        """The shortest way to every state the kit can bring a campaign into."""
        updatable = self.view.one("update") is not None and self.view.update_body() is not None
        return plan_routes(self.lifecycle, self.settable(), self.action_params, updatable)

    def settable(self) -> frozenset[str]:
        return frozenset(name for name in self.view.time_fields() if self.view.accepts_on_create(name))

    def with_refusal_fields(self, plan: Plan, action: str) -> Plan:
        """``plan`` with the campaign times ``action``'s refusals read set ahead too, where that
        leads the same way (so an allowed move is judged, not refused for a missing time)."""
        needed = refusal_fields(self.lifecycle, action, self.settable()) - plan.future_fields
        if not needed:
            return plan
        richer = plan.future_fields | needed
        states = simulate(self.lifecycle, richer, plan.actions, plan.states[0], self.action_params)
        if states is None or states != plan.states[: len(states)]:
            return plan
        return Plan(richer, plan.actions, plan.states, plan.wait_for)

    def action_body(self, step: str, moments: Mapping[str, datetime] | None = None) -> tuple[str | None, Any]:
        """(media type, body) the kit sends for a step: the documented example (or, for
        ``action+param``, only that member, a future time), with the member that names the
        action where the operation reads it from the body."""
        action, param = split_step(step)
        operation = self.view.transition(action)
        if operation is None:
            return None, None
        content_type, body = None, None
        if param is not None:
            sets = next((g.sets for g in self.lifecycle.transitions[action].guards if g.param == param), None)
            when = (moments or {}).get(str(sets)) or self.now() + FAR_FUTURE
            moment = self.view.future_member(operation, param, when)
            content_type, body = "application/json", {param: moment}
        elif operation.body_required or operation.action_field:
            example = self.view.request_body(operation, "action")
            if example is not None:
                content_type, body = example
        else:
            # an optional body the contract gives an example of (a pause's reason) is sent too:
            # what it carries must land where the contract says (the event), not be dropped
            documented = self.view.request_example(operation)
            guard_params = {g.param for g in self.lifecycle.transitions[action].guards if g.param}
            if documented is not None and isinstance(documented[1], dict) and not guard_params & set(documented[1]):
                content_type, body = documented
        if moments and isinstance(body, dict):
            # a documented member a guard stores (schedule's send_at) carries the moment the
            # kit waits on, not the example's date
            stored = [g for g in self.lifecycle.transitions[action].guards if g.param in body and g.sets in moments]
            body = {
                **body,
                **{
                    str(g.param): self.view.future_member(operation, str(g.param), moments[str(g.sets)]) for g in stored
                },
            }
        passing = self.passing_members(action, operation, body if isinstance(body, dict) else {})
        if passing:
            body = {**(body if isinstance(body, dict) else {}), **passing}
            content_type = content_type or "application/json"
        named = operation.action_body(action)
        if named is not None:
            body = {**(body if isinstance(body, dict) else {}), **named}
            content_type = content_type or "application/json"
        return content_type, body

    def passing_members(self, action: str, operation: Any, body: Mapping[str, Any]) -> dict[str, str]:
        """Request members the action's refusals read that ``body`` lacks or has refused, each
        a time none of them refuses (a schedule time in the future, on the quarter hour), so an
        allowed move is not refused."""
        move = self.lifecycle.transitions.get(action)
        refusals = [rule for rule in move.refusals if rule.param] if move is not None else []
        now = self.now()
        params = sorted(
            {
                str(rule.param)
                for rule in refusals
                if rule.param not in body or rule.refuses(lambda name: None, now, body)
            }
        )
        return {
            param: self.view.future_member(
                operation, param, passing_moment([rule for rule in refusals if rule.param == param], self.now())
            )
            for param in params
        }

    def may_set(self, step: str) -> set[str]:
        """Campaign members a step may set besides the status: those its guards store a request
        member in, and the members its body names."""
        action, _ = split_step(step)
        move = self.lifecycle.transitions[action]
        named = {guard.sets for guard in move.guards if guard.sets} | set(move.stamps) | set(move.reset)
        body = self.action_params(step)
        return {str(name) for name in named} | {str(name) for name in body}

    def check_members(
        self,
        before: Mapping[str, Any],
        operation: Any,
        exchange: Exchange,
        action: str,
        label: str,
        scenario: Scenario,
        campaign_id: str,
    ) -> None:
        """The differential check: the move's answer and the next read against the campaign
        before it, member by member (``conformance.members``)."""
        declared = frozenset(self.view.campaign_members()) or None
        changes = members.MoveChanges(
            self.lifecycle.status_field, self.view.stamps(), frozenset(self.may_set(action)), declared
        )
        answered = self.view.campaign_in(operation, exchange.json()) if self.view.answers_campaign(operation) else None
        for where, after in (("its answer", answered), ("a later read", self.read_campaign(scenario, campaign_id))):
            if isinstance(after, dict):
                changed = changes.unexpected(before, after)
                self.result.check(
                    not changed,
                    "lifecycle.move-changes-only-its-members",
                    label,
                    f"in {where}, only {changes.describe()} changed",
                    "; ".join(changed),
                    scenario.steps(),
                )

    def check_history(self, events: list[Any], now: Any, label: str, scenario: Scenario) -> None:
        """The history is a chain: each event leaves the state the one before entered, and the
        last enters the state the campaign is in."""
        moves = [event for event in events if isinstance(event, dict) and "from" in event and "to" in event]
        if len(moves) != len(events) or not moves:
            return
        broken = [
            f"event {index} from {event['from']!r} after one to {moves[index - 1]['to']!r}"
            for index, event in enumerate(moves)
            if index and event["from"] != moves[index - 1]["to"]
        ]
        if moves[-1]["to"] != now:
            broken.append(f"the last event enters {moves[-1]['to']!r}, the campaign is {now!r}")
        self.result.check(
            not broken,
            "lifecycle.history-chain",
            label,
            "a history whose every event leaves the state the one before entered, ending where the campaign is",
            "; ".join(broken),
            scenario.steps(),
        )

    def action_params(self, action: str) -> Mapping[str, Any]:
        body = self.action_body(action)[1]
        return body if isinstance(body, Mapping) else {}

    def create(
        self,
        scenario: Scenario,
        times: dict[str, str] | None = None,
        state: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> str | None:
        """A new campaign (in ``state``, with ``times`` and other ``fields`` set); its id."""
        built = self.view.create_body(times)
        if built is None or self.creator is None:
            return None
        media_type, body = built
        body.update(fields or {})
        state = state or self.lifecycle.initial
        if state != self.lifecycle.initial:
            body[self.lifecycle.status_field] = state
        exchange = scenario.send(self.creator, json_body=body, content_type=media_type)
        self.created = exchange
        self._learn_server_time(exchange)
        expected = self.creator.success_status()
        campaign = self.view.campaign_in(self.creator, exchange.json())
        ok = exchange.status == expected and isinstance(campaign, dict) and campaign.get(self.id_field) is not None
        self.result.check(
            ok,
            "lifecycle.create",
            self.creator.operation_id,
            f"{expected} with a campaign that has an {self.id_field!r}",
            exchange.brief(),
            scenario.steps(),
        )
        if not ok:
            return None
        if not self.view.answers_campaign(self.creator):
            # the create answers some members only ({id}): the state is judged on a read
            campaign = self.read_campaign(scenario, str(campaign[self.id_field])) or campaign
        status = campaign.get(self.lifecycle.status_field)
        self.result.check(
            status == state,
            "lifecycle.initial-state",
            self.creator.operation_id,
            f"{self.lifecycle.status_field} {state!r}",
            f"{status!r}",
            scenario.steps(),
        )
        return str(campaign[self.id_field])

    def path_values(self, operation: Any, campaign_id: str) -> dict[str, str]:
        name = self.view.id_parameter(operation)
        return {name: campaign_id} if name else {}

    def act(
        self, scenario: Scenario, step: str, campaign_id: str, moments: Mapping[str, datetime] | None = None
    ) -> Exchange | None:
        """Send one step of a plan; ``moments``: the times a guard member should carry."""
        if step == UPDATE_STEP:
            return self.update(scenario, campaign_id)
        action, _ = split_step(step)
        operation = self.view.transition(action)
        if operation is None:
            return None
        content_type, body = self.action_body(step, moments)
        return scenario.send(
            operation, path_values=self.path_values(operation, campaign_id), json_body=body, content_type=content_type
        )

    def expect_state(
        self, scenario: Scenario, campaign_id: str, expected: str, rule: str, label: str, when: str
    ) -> None:
        """A read of the campaign shows ``expected`` (where the spec has a read operation)."""
        if self.reader is None:
            return
        status, _ = self.read_status(scenario, campaign_id)
        self.result.check(status == expected, rule, label, f"{expected!r} {when}", f"{status!r}", scenario.steps())

    def update(self, scenario: Scenario, campaign_id: str) -> Exchange | None:
        """Send the documented update example to the campaign."""
        updater, example = self.view.one("update"), self.view.update_body()
        if updater is None or example is None:
            return None
        media_type, body = example
        return scenario.send(
            updater, path_values=self.path_values(updater, campaign_id), json_body=body, content_type=media_type
        )

    def read_status(self, scenario: Scenario, campaign_id: str) -> tuple[Any, Exchange | None]:
        if self.reader is None:
            return None, None
        exchange = scenario.send(self.reader, path_values=self.path_values(self.reader, campaign_id))
        return self.view.status_of(self.reader, exchange.json()), exchange

    def read_campaign(self, scenario: Scenario, campaign_id: str) -> dict[str, Any] | None:
        """The campaign as a read shows it (None where the spec has no read, or it is no object)."""
        if self.reader is None:
            return None
        exchange = scenario.send(self.reader, path_values=self.path_values(self.reader, campaign_id))
        campaign = self.view.campaign_in(self.reader, exchange.json())
        return dict(campaign) if isinstance(campaign, dict) else None

    def read_events(self, scenario: Scenario, campaign_id: str) -> list[Any] | None:
        if self.events is None:
            return None
        exchange = scenario.send(self.events, path_values=self.path_values(self.events, campaign_id))
        items = self.view.campaign_in(self.events, exchange.json())
        return items if isinstance(items, list) else None

    def times_for(self, fields: frozenset[str]) -> dict[str, str]:
        moment = format_timestamp(self.now() + FAR_FUTURE)
        return dict.fromkeys(fields, moment)

    def reach(self, plan: Plan, label: str) -> tuple[Scenario, str] | None:
        """A fresh campaign brought along ``plan``; None (with a failure recorded) if it cannot be."""
        scenario = Scenario(self.context)
        times = self.times_for(plan.future_fields)
        due = self.now() + timedelta(seconds=self.context.options.timer_step_seconds)
        if plan.wait_for is not None:
            times[plan.wait_for] = format_timestamp(due)
        campaign_id = self.create(scenario, times, plan.states[0])
        if campaign_id is None:
            return None
        # a step that stores a time the plan waits on (schedule's send_at) stores the same moment
        moments = {plan.wait_for: due} if plan.wait_for is not None else None
        for action, expected in zip(plan.actions, plan.states[1:], strict=False):
            exchange = self.act(scenario, action, campaign_id, moments)
            operation = (
                self.view.one("update") if action == UPDATE_STEP else self.view.transition(split_step(action)[0])
            )
            if exchange is None or operation is None:
                return None
            if exchange.status != operation.success_status():
                self.result.failed(
                    "lifecycle.update-allowed" if action == UPDATE_STEP else "lifecycle.allowed-move",
                    operation.operation_id,
                    f"{operation.success_status()} for {action} on the way to {label} (now {expected})",
                    exchange.brief(),
                    scenario.steps(),
                )
                return None
        if plan.wait_for is not None:
            time.sleep(max(0.0, (due - self.now()).total_seconds()) + self.context.options.timer_step_seconds / 2)
        status, _ = self.read_status(scenario, campaign_id)
        if self.reader is not None and status != plan.states[-1]:
            self.result.failed(
                "lifecycle.move-visible",
                self.reader.operation_id,
                f"{self.lifecycle.status_field} {plan.states[-1]!r} after {' -> '.join(plan.actions) or 'create'}",
                f"{status!r}",
                scenario.steps(),
            )
            return None
        return scenario, campaign_id

    # -- the rules -------------------------------------------------------------------------
    def check_action(self, plan: Plan, action: str) -> None:
        """The rules of one (state, action) pair; its outcomes are kept for the report's matrix."""
        first = len(self.result.outcomes)
        try:
            self._check_action(plan, action)
        finally:
            self.context.coverage.judged(plan.states[-1], action, self.result.outcomes[first:])

    def _check_action(self, plan: Plan, action: str) -> None:
        state = plan.states[-1]
        operation = self.view.transition(action)
        if operation is None:
            self.result.skipped("lifecycle.allowed-move", action, f"the spec has no operation for {action}")
            return
        plan = self.with_refusal_fields(plan, action)
        reached = self.reach(plan, state)
        if reached is None:
            return
        scenario, campaign_id = reached
        before = self.read_campaign(scenario, campaign_id)
        events_before = self.read_events(scenario, campaign_id)
        started = self.now()
        exchange = self.act(scenario, action, campaign_id)
        if exchange is None:
            return
        label = f"{operation.operation_id} from {state}"
        move = self.lifecycle.transitions[action]
        if state in move.sources:
            target = (
                simulate(self.lifecycle, plan.future_fields, (action,), state, self.action_params)
                if plan.wait_for is not None
                else simulate(
                    self.lifecycle, plan.future_fields, (*plan.actions, action), plan.states[0], self.action_params
                )
            )
            expected_state = target[-1] if target else move.target
            success = operation.success_status()
            if not self.result.check(
                exchange.status == success,
                "lifecycle.allowed-move",
                label,
                f"{success} ({action} is allowed from {state})",
                exchange.brief(),
                scenario.steps(),
            ):
                return
            self.expect_state(scenario, campaign_id, expected_state, "lifecycle.move-visible", label, "on a later read")
            if before is not None:
                self.check_members(before, operation, exchange, action, label, scenario, campaign_id)
            if move.stamps or move.reset:
                self.check_action_writes(move.stamps, move.reset, started, scenario, campaign_id, label)
            events = self.read_events(scenario, campaign_id)
            if events is not None:
                self.check_history(events, expected_state, label, scenario)
                last = events[-1] if events else None
                recorded = (
                    isinstance(last, dict)
                    and last.get("action") == action
                    and last.get("from") == state
                    and last.get("to") == expected_state
                    and len(events) == len(events_before or []) + 1
                )
                self.result.check(
                    bool(recorded),
                    "lifecycle.event-recorded",
                    label,
                    f"one new event {{action: {action}, from: {state}, to: {expected_state}}}",
                    f"{len(events) - len(events_before or [])} new, last {last!r}",
                    scenario.steps(),
                )
                self.check_event_keeps_the_body(exchange, last, label, scenario)
            return
        conflict = self.lifecycle.conflict_status
        rule = "lifecycle.terminal-stays" if self.lifecycle.is_terminal(state) else "lifecycle.forbidden-move"
        why = f"{action} is not allowed from {state}"
        body_rule, changes_rule = "lifecycle.conflict-body", "lifecycle.forbidden-changes-nothing"
        refused = Refused(rule, label, conflict, why, "invalid-transition", body_rule, changes_rule)
        if self.judge_refused(scenario, exchange, operation, refused, (campaign_id, state, before, events_before)):
            self.check_allowed_actions_named(state, exchange, label, scenario)

    def reach_and_read(self, plan: Plan, state: str) -> tuple[Scenario, str, Any, list[Any] | None] | None:
        """A fresh campaign brought to ``state``, read (campaign and history) before the request
        the caller judges."""
        reached = self.reach(plan, state)
        if reached is None:
            return None
        scenario, campaign_id = reached
        return scenario, campaign_id, self.read_campaign(scenario, campaign_id), self.read_events(scenario, campaign_id)

    def judge_refused(
        self,
        scenario: Scenario,
        exchange: Exchange,
        operation: Any,
        refused: Refused,
        campaign: tuple[str, str, Any, list[Any] | None],
    ) -> bool:
        """A refused request: its status, a documented error body, the vendor's code for its kind,
        and (``campaign``: id, state, read before, history before) nothing changed."""
        if not self.result.check(
            exchange.status == refused.status,
            refused.rule,
            refused.label,
            f"{refused.status} ({refused.why})",
            exchange.brief(),
            scenario.steps(),
        ):
            return False
        self.check_error_body(refused.body_rule or refused.rule, operation, exchange, refused.label, scenario)
        judge_code(self.result, self.view.contract.document, refused.kind, exchange, refused.label, scenario.steps())
        campaign_id, state, before, events_before = campaign
        rule = refused.changes_rule or refused.rule
        self.expect_unchanged(scenario, campaign_id, state, before, events_before, rule, refused.label)
        return True

    def expect_unchanged(
        self,
        scenario: Scenario,
        campaign_id: str,
        state: str,
        before: Mapping[str, Any] | None,
        events_before: list[Any] | None,
        rule: str,
        label: str,
    ) -> None:
        """A refused request changed nothing: the campaign reads as before, every member (its
        write stamps too), and its history has no new event."""
        after = self.read_campaign(scenario, campaign_id)
        events = self.read_events(scenario, campaign_id)
        status = after.get(self.lifecycle.status_field) if after is not None else None
        changed = members.differences(before, after) if before is not None and after is not None else []
        unchanged = (self.reader is None or (status == state and not changed)) and (
            events is None or len(events) == len(events_before or [])
        )
        self.result.check(
            unchanged,
            rule,
            label,
            f"still {state!r}, every member as before, no new event",
            f"{status!r}; {'; '.join(changed) or 'members as before'}; {len(events or [])} event(s) "
            f"(before: {len(events_before or [])})",
            scenario.steps(),
        )

    def check_action_writes(
        self,
        stamps: tuple[str, ...],
        reset: Mapping[str, Any],
        started: datetime,
        scenario: Scenario,
        campaign_id: str,
        label: str,
    ) -> None:
        """An action that stamps members (``send`` stamps ``send_time``) sets each to the time
        it was made: the server's time, within the second either side of the request; one that
        resets members (``unschedule`` clears ``send_at``) leaves each at its value."""
        campaign = self.read_campaign(scenario, campaign_id)
        if campaign is None:
            return
        for name, value in reset.items():
            self.result.check(
                campaign.get(name) == value,
                "lifecycle.action-resets",
                f"{label}: {name}",
                f"{name} reset to {value!r}",
                f"{campaign.get(name)!r}",
                scenario.steps(),
            )
        earliest, latest = started - timedelta(seconds=1), self.now() + timedelta(seconds=1)
        for name in stamps:
            value = campaign.get(name)
            moment = parse_timestamp(value) if isinstance(value, str) else None
            self.result.check(
                moment is not None and earliest <= moment <= latest,
                "lifecycle.action-stamps",
                f"{label}: {name}",
                f"{name} stamped with the time of the move, {format_timestamp(earliest)} to {format_timestamp(latest)}",
                f"{value!r}",
                scenario.steps(),
            )

    def check_event_keeps_the_body(self, exchange: Exchange, event: Any, label: str, scenario: Scenario) -> None:
        """What the action's request carried and the event has a member for (a ``reason``) is
        recorded as sent: the history is the campaign's account of why it moved."""
        try:
            sent = json.loads(exchange.body) if exchange.body else None
        except ValueError:
            return
        if not isinstance(sent, dict) or not isinstance(event, dict):
            return
        kept = {name: value for name, value in sent.items() if name in event and not isinstance(value, dict | list)}
        for name, value in kept.items():
            recorded_instant = isinstance(value, str) and parse_timestamp(value) is not None
            as_sent = event[name] == value or (
                recorded_instant and parse_timestamp(str(event[name])) == parse_timestamp(str(value))
            )
            self.result.check(
                as_sent,
                "lifecycle.event-recorded",
                f"{label}: {name}",
                f"the event records {name} as sent: {value!r}",
                f"{event[name]!r}",
                scenario.steps(),
            )

    def check_allowed_actions_named(self, state: str, exchange: Exchange, label: str, scenario: Scenario) -> None:
        """A conflict body that lists actions (``allowed_actions``) lists those the lifecycle
        allows from the campaign's state, no more and no fewer."""
        body = exchange.json()
        if not isinstance(body, dict):
            return
        actions = set(self.lifecycle.transitions)
        members = [
            *body.items(),
            *((k, v) for nested in body.values() if isinstance(nested, dict) for k, v in nested.items()),
        ]
        for name, value in members:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                continue
            if not ((value and set(value) <= actions) or "action" in str(name).lower()):
                continue
            allowed = sorted(self.lifecycle.allowed_actions(state))
            self.result.check(
                sorted(set(value)) == allowed,
                "lifecycle.conflict-body",
                f"{label}: {name}",
                f"{name} names the actions allowed from {state}: {allowed}",
                f"{value!r}",
                scenario.steps(),
            )

    def check_error_body(self, rule: str, operation: Any, exchange: Exchange, label: str, scenario: Scenario) -> None:
        media_types = self.view.media_types(operation, exchange.status)
        if not media_types:
            self.result.failed(
                rule, label, f"{exchange.status} documented with a body", "undocumented", scenario.steps()
            )
            return
        if exchange.content_type not in media_types:
            self.result.failed(
                rule, label, f"Content-Type {' or '.join(media_types)}", exchange.brief(), scenario.steps()
            )
            return
        problems = self.view.body_problems(operation, exchange.status, exchange.content_type, exchange.json())
        self.result.check(
            not problems,
            rule,
            label,
            "an error body matching the documented schema",
            "; ".join(problems) or exchange.brief(),
            scenario.steps(),
        )

    def check_update(self, plan: Plan) -> None:
        """An update in this state is accepted (and lands where ``updates.moves`` says) or
        refused with the conflict status, changing nothing, as the lifecycle says."""
        updater = self.view.one("update")
        state = plan.states[-1]
        if updater is None:
            return
        example = self.view.update_body()
        if example is None:
            self.result.skipped("lifecycle.update", updater.operation_id, "no request example to send")
            return
        reached = self.reach(plan, state)
        if reached is None:
            return
        scenario, campaign_id = reached
        before = None if self.lifecycle.may_update(state) else self.read_campaign(scenario, campaign_id)
        events_before = None if before is None else self.read_events(scenario, campaign_id)
        exchange = self.update(scenario, campaign_id)
        if exchange is None:
            return
        label = f"{updater.operation_id} in {state}"
        if self.lifecycle.may_update(state):
            landing = self.lifecycle.after_update(state)
            if self.result.check(
                exchange.status == updater.success_status(),
                "lifecycle.update-allowed",
                label,
                f"{updater.success_status()} (updates are accepted in {state})",
                exchange.brief(),
                scenario.steps(),
            ):
                self.expect_state(
                    scenario, campaign_id, landing, "lifecycle.update-lands", label, f"after an update in {state}"
                )
            return
        terminal = self.lifecycle.is_terminal(state)
        conflict = self.lifecycle.conflict_status
        if self.result.check(
            exchange.status == conflict,
            "lifecycle.terminal-update" if terminal else "lifecycle.update-refused",
            label,
            f"{conflict} (a {state} campaign cannot be updated)",
            exchange.brief(),
            scenario.steps(),
        ):
            self.check_error_body("lifecycle.conflict-body", updater, exchange, label, scenario)
            judge_code(self.result, self.view.contract.document, "state-conflict", exchange, label, scenario.steps())
        rule = "lifecycle.terminal-stays" if terminal else "lifecycle.forbidden-changes-nothing"
        self.expect_unchanged(scenario, campaign_id, state, before, events_before, rule, label)

    def begin_stamps(self, plans: dict[str, Plan]) -> Callable[[], None] | None:
        """Members stamped by writes (``x-stamp: write``) move forward on a move made a second
        after the campaign was stamped; those stamped at creation stay as they were. Begun
        here (a campaign made and read), finished by the returned call a second later at the
        earliest, so the other checks' waits for the clock run meanwhile."""
        stamps = self.view.stamps()
        plan = plans.get(self.lifecycle.initial)
        action = next(
            (a for a in self.lifecycle.allowed_actions(self.lifecycle.initial) if self.view.transition(a)), None
        )
        if not stamps or plan is None or action is None or self.reader is None:
            self.result.not_applicable("lifecycle.stamps", "-", "the campaign declares no x-stamp member")
            return None
        reached = self.reach(plan, self.lifecycle.initial)
        if reached is None:
            return None
        scenario, campaign_id = reached
        before = self.read_campaign(scenario, campaign_id) or {}
        read_at = time.monotonic()

        def finish() -> None:
            time.sleep(max(0.0, STAMP_GAP_SECONDS - (time.monotonic() - read_at)))
            exchange = self.act(scenario, action, campaign_id)
            operation = self.view.transition(action)
            if exchange is None or operation is None or exchange.status != operation.success_status():
                return
            after = self.read_campaign(scenario, campaign_id) or {}
            for name, kind in sorted(stamps.items()):
                moved = members.stamp_moved_forward(before.get(name), after.get(name))
                kept = before.get(name) == after.get(name)
                self.result.check(
                    moved if kind == "write" else kept,
                    "lifecycle.stamps",
                    f"{name} ({kind}) on {operation.operation_id}",
                    f"{name} later than {before.get(name)!r}"
                    if kind == "write"
                    else f"{name} still {before.get(name)!r}",
                    f"{after.get(name)!r}",
                    scenario.steps(),
                )

        return finish

    def check_ordered_times(self) -> None:
        """``x-lifecycle.ordered_times`` at its bound: a create naming two of them at the same
        moment (not strictly in order) is refused as a body that contradicts itself."""
        ordered = [name for name in self.lifecycle.ordered_times if self.view.accepts_on_create(name)]
        if len(ordered) < 2 or self.creator is None:
            self.result.not_applicable("lifecycle.ordered-times", "-", "create takes no two ordered times")
            return
        scenario = Scenario(self.context)
        moment = format_timestamp(self.now() + FAR_FUTURE)
        built = self.view.create_body(dict.fromkeys(ordered[:2], moment))
        if built is None:
            return
        media_type, body = built
        exchange = scenario.send(self.creator, json_body=body, content_type=media_type)
        expected = invalid_body_status(self.view.contract.document)
        label = f"{self.creator.operation_id} with {ordered[0]} = {ordered[1]}"
        if self.result.check(
            exchange.status == expected,
            "lifecycle.ordered-times",
            label,
            f"{expected} ({ordered[1]} must come after {ordered[0]}, not at the same moment)",
            exchange.brief(),
            scenario.steps(),
        ):
            self.check_error_body("lifecycle.ordered-times", self.creator, exchange, label, scenario)
        self._check_update_against_stored_times(ordered[0], ordered[1])

    def _check_update_against_stored_times(self, earlier: str, later: str) -> None:
        """An update naming only ``later``, before the stored ``earlier``, contradicts what is kept,
        not itself: the conflict status (a body valid on its own meets the campaign's state), and
        nothing changes."""
        updater = self.view.one("update")
        if updater is None or self.creator is None or not self.lifecycle.may_update(self.lifecycle.initial):
            return
        start = self.now() + FAR_FUTURE
        built = self.view.create_body({earlier: format_timestamp(start)})
        if built is None:
            return
        scenario = Scenario(self.context)
        created = scenario.send(self.creator, json_body=built[1], content_type=built[0])
        campaign = self.view.campaign_in(self.creator, created.json())
        if created.status >= 300 or not isinstance(campaign, dict) or self.lifecycle.status_field not in campaign:
            return
        if campaign[self.lifecycle.status_field] != self.lifecycle.initial:
            return
        campaign_id = str(campaign.get(self.view.id_field()))
        media_type = next(iter(updater.body_schemas), "application/json")
        before = self.read_status(scenario, campaign_id)[1]
        exchange = scenario.send(
            updater,
            path_values=self.path_values(updater, campaign_id),
            json_body={later: format_timestamp(start - timedelta(days=1))},
            content_type=media_type,
        )
        label = f"{updater.operation_id} with {later} before the stored {earlier}"
        conflict = self.lifecycle.conflict_status
        self.result.check(
            exchange.status == conflict,
            "lifecycle.ordered-times",
            label,
            f"{conflict} (the body is valid alone; it contradicts the stored {earlier})",
            exchange.brief(),
            scenario.steps(),
        )
        after = self.read_status(scenario, campaign_id)[1]
        unchanged = before is not None and after is not None and before.json() == after.json()
        self.result.check(
            unchanged,
            "lifecycle.ordered-times",
            label,
            "nothing changed",
            after.brief() if after is not None else "no read",
            scenario.steps(),
        )

    def check_delete(self, plans: dict[str, Plan]) -> None:
        deleter = self.view.one("delete")
        state = next((state for state in plans if self.lifecycle.may_delete(state)), None)
        if deleter is None or state is None:
            return
        reached = self.reach(plans[state], state)
        if reached is None:
            return
        scenario, campaign_id = reached
        exchange = scenario.send(deleter, path_values=self.path_values(deleter, campaign_id))
        if not self.result.check(
            exchange.status == deleter.success_status(),
            "lifecycle.delete",
            deleter.operation_id,
            f"{deleter.success_status()}",
            exchange.brief(),
            scenario.steps(),
        ):
            return
        for operation in (self.reader, self.events, deleter):
            if operation is None:
                continue
            again = scenario.send(operation, path_values=self.path_values(operation, campaign_id))
            self.result.check(
                again.status == 404,
                "lifecycle.deleted-gone",
                operation.operation_id,
                "404 for a deleted campaign",
                again.brief(),
                scenario.steps(),
            )


def run(context: KitContext) -> GroupResult:
    result = context.start(GROUP)
    checks = LifecycleChecks(context, result)
    if checks.creator is None:
        result.skipped("lifecycle.create", "-", "the spec has no create operation")
        return result
    plans = checks.plans()
    for state in checks.lifecycle.states:
        if state not in plans:
            result.skipped("lifecycle.reach-state", state, "not reachable by actions the kit can take")
    total = len(plans) * len(checks.lifecycle.transitions)
    done = 0
    for plan in plans.values():
        for action in checks.lifecycle.transitions:
            checks.check_action(plan, action)
            done += 1
        context.progress(f"  lifecycle: {done}/{total} state x action checks")
        checks.check_update(plan)
    checks.check_delete(plans)
    check_deletes_refused(checks, plans)
    check_refusals(checks, plans)
    check_copies(checks, plans)
    finish_stamps = checks.begin_stamps(plans)  # its second's wait overlaps the clock's below
    checks.check_ordered_times()
    check_every_state(checks, plans)
    if finish_stamps is not None:
        finish_stamps()
    result.summary = f"{len(plans)} states x {len(checks.lifecycle.transitions)} actions"
    return result

"""Clock-driven moves, judged from every state the kit can reach, not along one path.

A timer (``x-lifecycle.timers``) promises two things: from each of its source states the
campaign moves once its time field has passed, and from every other state it does not. A
server that completes a paused campaign at ``end_at``, or forgets to start one resumed into
``scheduled``, breaks one of them only from a state a single walk never visits. So the kit
makes one campaign per reachable state, each carrying every time the timers and guards read
(soon, one ``--timer-step`` apart, in ``ordered_times`` order), brings it to its state, waits
once for all of them, and compares each campaign with what the lifecycle predicts: its state,
the events the clock wrote (each naming its timer), and its ``x-stamp: write`` members
moved forward when the clock moved it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from campaign_mock.conformance.context import Scenario
from campaign_mock.conformance.members import stamp_moved_forward
from campaign_mock.contract.lifecycle import Lifecycle, Timer
from campaign_mock.contract.timefmt import format_timestamp, parse_timestamp

if TYPE_CHECKING:
    from campaign_mock.conformance.groups.lifecycle import LifecycleChecks, Plan

STAMP_RESOLUTION = timedelta(seconds=1.1)
"""A stamp is judged to have moved only when the move came this long after the read before
it: a server may keep whole seconds."""


@dataclass
class Watched:
    """A campaign brought to ``state``, waiting for its times to pass."""

    state: str
    campaign_id: str
    scenario: Scenario
    moments: dict[str, datetime]
    reached_at: datetime
    before: dict[str, Any]
    stamped: dict[str, datetime]  # times the plan's actions stamped (``send`` stamps ``send_time``)


def predict(
    lifecycle: Lifecycle, state: str, moments: dict[str, datetime], until: datetime | None = None
) -> list[tuple[Timer, datetime]]:
    """The clock's moves from ``state`` once every moment (a field's time plus a timer's
    ``delay``) up to ``until`` has passed, in order: at each moment (earliest first), the first
    timer on that field and delay whose sources hold the campaign's state."""
    due: dict[tuple[str, timedelta], datetime] = {}
    for timer in lifecycle.timers:
        if timer.at_field in moments:
            fires = moments[timer.at_field] + timer.delay
            if until is None or fires <= until:
                due[(timer.at_field, timer.delay)] = fires
    moves: list[tuple[Timer, datetime]] = []
    current = state
    for (field, delay), moment in sorted(due.items(), key=lambda item: item[1]):
        fired = next(
            (t for t in lifecycle.timers if t.at_field == field and t.delay == delay and current in t.sources), None
        )
        if fired is not None:
            moves.append((fired, moment))
            current = fired.target
    return moves


def fire_moments(lifecycle: Lifecycle, moments: dict[str, datetime]) -> list[datetime]:
    """When each timer on these fields would fire."""
    return [moments[t.at_field] + t.delay for t in lifecycle.timers if t.at_field in moments]


def _stamped_fields(lifecycle: Lifecycle) -> set[str]:
    """Fields an action stamps with the time: a timer on them waits from that action."""
    return {name for move in lifecycle.transitions.values() for name in move.stamps}


def _guard_fields(lifecycle: Lifecycle) -> set[str]:
    return {guard.field for move in lifecycle.transitions.values() for guard in move.guards if guard.field}


def _fields(checks: LifecycleChecks) -> list[str] | None:
    """The times to set: every timer's field and every guard's, ordered as the contract orders
    them; None when the create operation does not take them all."""
    lifecycle = checks.lifecycle
    wanted = {timer.at_field for timer in lifecycle.timers} - _stamped_fields(lifecycle) | _guard_fields(lifecycle)
    ordered = [name for name in lifecycle.ordered_times if name in wanted]
    ordered += sorted(wanted - set(ordered))
    return ordered if all(checks.view.accepts_on_create(name) for name in ordered) else None


def _prepare(checks: LifecycleChecks, state: str, plan: Plan, fields: list[str]) -> Watched | str:
    """A campaign in ``state`` with every time set ahead; or why it could not be made."""
    scenario = Scenario(checks.context)
    step = checks.context.options.timer_step_seconds
    start = checks.now() + timedelta(seconds=step)  # room to take the plan's steps first
    moments = {name: start + timedelta(seconds=step * (index + 1)) for index, name in enumerate(fields)}
    campaign_id = checks.create(scenario, {name: format_timestamp(m) for name, m in moments.items()}, plan.states[0])
    if campaign_id is None:
        return "could not create a campaign with the timers' times"
    for action in plan.actions:
        exchange = checks.act(scenario, action, campaign_id, moments)
        if exchange is None or exchange.status >= 300:
            return f"{action} on the way to {state} was refused with the times set"
    status, read = checks.read_status(scenario, campaign_id)
    if status != state or read is None:
        return f"the way to {state} with the times set lands in {status!r}"
    if moments and checks.now() >= min(moments.values()):
        return f"reaching {state} took longer than --timer-step; raise it"
    campaign = checks.view.campaign_in(checks.reader, read.json()) if checks.reader else None
    before = campaign if isinstance(campaign, dict) else {}
    stamped = {
        name: moment
        for name in _stamped_fields(checks.lifecycle)
        if isinstance(before.get(name), str) and (moment := parse_timestamp(before[name])) is not None
    }
    return Watched(state, campaign_id, scenario, moments, checks.now(), before, stamped)


def check_every_state(checks: LifecycleChecks, plans: dict[str, Plan]) -> None:
    lifecycle, result = checks.lifecycle, checks.result
    if not lifecycle.timers or checks.reader is None:
        return
    fields = _fields(checks)
    if fields is None:
        result.skipped("lifecycle.timer", "clock", "the create operation does not take the times timers wait on")
        return
    watched: list[Watched] = []
    for state, plan in plans.items():
        if lifecycle.is_terminal(state) or plan.wait_for is not None:
            continue
        prepared = _prepare(checks, state, plan, fields)
        unguarded = [name for name in fields if name not in _guard_fields(lifecycle)]
        if isinstance(prepared, str) and unguarded and unguarded != fields:
            # a guard routed the way elsewhere (activate with a future start_at schedules):
            # the timers whose times no guard reads are still due from this state
            prepared = _prepare(checks, state, plan, unguarded)
        if isinstance(prepared, str):
            result.skipped("lifecycle.timer", f"from {state}", prepared)
        else:
            watched.append(prepared)
    if not watched:
        return
    step = timedelta(seconds=checks.context.options.timer_step_seconds)
    waits = [moment for w in watched for moment in fire_moments(lifecycle, {**w.moments, **w.stamped})]
    # a timer that waits from an action's stamp is waited for when it is due within the
    # kit's own wait, else judged not to have fired yet
    last = max(
        [
            *(max(w.moments.values()) for w in watched if w.moments),
            *(m for m in waits if m <= checks.now() + 10 * step),
        ],
        default=checks.now(),
    )
    time.sleep(max(0.0, (last - checks.now()).total_seconds() + step.total_seconds() / 2))
    for campaign in watched:
        _judge(checks, campaign)


def _judge(checks: LifecycleChecks, campaign: Watched) -> None:
    result, lifecycle = checks.result, checks.lifecycle
    now = checks.now()
    step = timedelta(seconds=checks.context.options.timer_step_seconds)
    moments = {**campaign.moments, **campaign.stamped}
    if any(now - step / 4 < moment < now + step for moment in fire_moments(lifecycle, moments)):
        result.skipped("lifecycle.timer", f"clock from {campaign.state}", "a timer falls due as the kit reads")
        return
    moves = predict(lifecycle, campaign.state, moments, until=now)
    expected = moves[-1][0].target if moves else campaign.state
    path = " -> ".join([campaign.state, *(timer.target for timer, _ in moves)])
    label = f"clock from {campaign.state}" + (f": {path}" if moves else " (no timer applies)")
    status, read = checks.read_status(campaign.scenario, campaign.campaign_id)
    if not result.check(
        status == expected,
        "lifecycle.timer",
        label,
        f"{expected!r} once every time has passed ({', '.join(campaign.moments)})",
        f"{status!r}",
        campaign.scenario.steps(),
    ):
        return
    if not moves:
        return
    events = checks.read_events(campaign.scenario, campaign.campaign_id)
    if events is not None:
        clock_events = events[-len(moves) :] if len(events) >= len(moves) else events
        wanted = [{"action": t.name, "to": t.target} for t, _ in moves]
        seen = [
            {"action": e.get("action", t.name), "to": e.get("to")} if isinstance(e, dict) else e
            for e, (t, _) in zip(clock_events, moves, strict=False)
        ]
        result.check(
            seen == wanted,
            "lifecycle.event-recorded",
            label,
            f"the last {len(moves)} event(s) {wanted}",
            f"{clock_events!r}"[:300],
            campaign.scenario.steps(),
        )
        checks.check_history(events, expected, label, campaign.scenario)
        _judge_event_times(checks, campaign, moves, clock_events, label)
    _judge_stamps(checks, campaign, moves, read, label)


def _judge_event_times(
    checks: LifecycleChecks, campaign: Watched, moves: list[tuple[Timer, datetime]], events: list[Any], label: str
) -> None:
    """A move the clock made happened when its time came, not when someone first looked: an
    event's date-time member names the timer's moment (within a quarter of --timer-step)."""
    slack = timedelta(seconds=checks.context.options.timer_step_seconds / 4)
    for event, (timer, moment) in zip(events, moves, strict=False):
        if not isinstance(event, dict):
            continue
        stamped = {name: parse_timestamp(value) for name, value in event.items() if isinstance(value, str)}
        times = {name: when for name, when in stamped.items() if when is not None}
        if not times:
            continue
        on_time = any(moment - timedelta(milliseconds=5) <= when <= moment + slack for when in times.values())
        checks.result.check(
            on_time,
            "lifecycle.event-recorded",
            f"{label}: {timer.name}",
            f"the event of {timer.name} stamped at its moment {format_timestamp(moment)}",
            ", ".join(f"{name}: {event[name]}" for name in times),
            campaign.scenario.steps(),
        )


def _judge_stamps(
    checks: LifecycleChecks, campaign: Watched, moves: list[tuple[Timer, datetime]], read: Any, label: str
) -> None:
    fired_at = moves[-1][1]
    stamps = [name for name, kind in checks.view.stamps().items() if kind == "write"]
    if not stamps or read is None or fired_at - campaign.reached_at < STAMP_RESOLUTION:
        return
    now = checks.view.campaign_in(checks.reader, read.json()) if checks.reader else None
    for name in stamps:
        old, new = campaign.before.get(name), now.get(name) if isinstance(now, dict) else None
        moved = stamp_moved_forward(old, new)
        checks.result.check(
            moved,
            "lifecycle.stamps",
            label,
            f"{name} (x-stamp: write) moved forward by the clock's move",
            f"{old!r} -> {new!r}",
            campaign.scenario.steps(),
        )

"""The campaign lifecycle, read from a spec's ``x-lifecycle`` extension.

State rules are data: nothing here knows a state or an action by name. The server asks
this model where an action leads; the conformance kit asks it which moves to try.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.timefmt import parse_moment

FieldReader = Callable[[str], datetime | None]
"""Reads a campaign's time field (e.g. ``start_at``) as an aware datetime, or None."""


@dataclass(frozen=True)
class Guard:
    """Sends an action elsewhere (first match wins) when a campaign's time ``field`` lies
    after ``now``, or when the request names ``param`` (whose value, if ``sets`` names a
    field, is stored there: a vendor's "resume at this time" body). With ``after_now`` a
    request member counts only when it is a time after ``now`` (Altcraft: ``activate`` with
    a future ``start_date`` waits, with a past one runs)."""

    to: str
    field: str | None = None
    param: str | None = None
    sets: str | None = None
    after_now: bool = False

    def applies(self, read_time: FieldReader, now: datetime, params: Mapping[str, Any] | None = None) -> bool:
        if self.param is not None:
            value = params.get(self.param) if params is not None else None
            if value is None or not self.after_now:
                return value is not None
            moment = parse_moment(value) if isinstance(value, str) else None
            return moment is not None and moment > now
        moment = read_time(str(self.field))
        return moment is not None and moment > now

    def describe(self) -> str:
        if self.param is not None:
            return f"{self.param} is in the future" if self.after_now else f"{self.param} is given"
        return f"{self.field} is in the future"


@dataclass(frozen=True)
class Transition:
    """One action: the states it may leave from, where it lands, and its guards."""

    action: str
    sources: frozenset[str]
    target: str
    guards: tuple[Guard, ...] = ()

    def targets(self) -> frozenset[str]:
        """Every state this action can land in, guards included."""
        return frozenset({self.target, *(guard.to for guard in self.guards)})


@dataclass(frozen=True)
class Timer:
    """A move the clock makes by itself once a campaign's time field has passed."""

    name: str
    sources: frozenset[str]
    at_field: str
    target: str


@dataclass(frozen=True)
class Lifecycle:
    """States, transitions and timers of one contract."""

    status_field: str
    initial: str
    terminal: frozenset[str]
    transitions: Mapping[str, Transition]
    timers: tuple[Timer, ...] = ()
    conflict_status: int = 409
    ordered_times: tuple[str, ...] = ()
    states: tuple[str, ...] = field(default=())
    create_into: tuple[str, ...] = ()
    updatable: frozenset[str] | None = None
    update_moves: Mapping[str, str] = field(default_factory=dict)

    def allowed_actions(self, state: str) -> list[str]:
        """Actions that may be applied in ``state``, in the spec's order."""
        return [name for name, move in self.transitions.items() if state in move.sources]

    def is_terminal(self, state: str) -> bool:
        return state in self.terminal

    def landing(
        self, action: str, read_time: FieldReader, now: datetime, params: Mapping[str, Any] | None = None
    ) -> tuple[str, Guard | None]:
        """Where ``action`` leads a campaign now, and the guard that sent it (first match wins)."""
        move = self.transitions[action]
        for guard in move.guards:
            if guard.applies(read_time, now, params):
                return guard.to, guard
        return move.target, None

    def landing_state(
        self, action: str, read_time: FieldReader, now: datetime, params: Mapping[str, Any] | None = None
    ) -> str:
        return self.landing(action, read_time, now, params)[0]

    def may_update(self, state: str) -> bool:
        """Whether an update is accepted in ``state`` (``updates.in``; default: any non-terminal)."""
        return state in self.updatable if self.updatable is not None else not self.is_terminal(state)

    def after_update(self, state: str) -> str:
        """The state an accepted update leaves a campaign in (``updates.moves``)."""
        return self.update_moves.get(state, state)

    def creatable(self) -> tuple[str, ...]:
        """States a create may land in: the initial one first, then ``create_into``."""
        return (self.initial, *(state for state in self.create_into if state != self.initial))

    def timers_from(self, state: str) -> list[Timer]:
        return [timer for timer in self.timers if state in timer.sources]

    def time_fields(self) -> frozenset[str]:
        """Fields whose value the lifecycle reads as a time."""
        fields = {timer.at_field for timer in self.timers}
        for move in self.transitions.values():
            fields.update(name for guard in move.guards for name in (guard.field, guard.sets) if name)
        fields.update(self.ordered_times)
        return frozenset(fields)


def _names(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    raise ContractError(f"{where}: expected a state name or a non-empty list of them, got {value!r}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ContractError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ContractError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _parse_transition(action: str, raw: Any) -> Transition:
    where = f"x-lifecycle.transitions.{action}"
    body = _mapping(raw, where)
    guards = []
    for index, guard in enumerate(body.get("when") or []):
        guard_body = _mapping(guard, f"{where}.when[{index}]")
        place = f"{where}.when[{index}]"
        to = _text(guard_body.get("to"), f"{place}.to")
        if "param" in guard_body:
            sets = guard_body.get("sets")
            after = guard_body.get("after")
            if after not in (None, "now"):
                raise ContractError(f"{place}.after: only 'now' is understood, got {after!r}")
            guards.append(
                Guard(
                    to=to,
                    param=_text(guard_body["param"], f"{place}.param"),
                    sets=_text(sets, f"{place}.sets") if sets is not None else None,
                    after_now=after == "now",
                )
            )
            continue
        if guard_body.get("after") != "now":
            raise ContractError(f"{place}: a guard needs 'param', or 'field' with 'after: now'")
        guards.append(Guard(to=to, field=_text(guard_body.get("field"), f"{place}.field")))
    return Transition(
        action=action,
        sources=frozenset(_names(body.get("from"), f"{where}.from")),
        target=_text(body.get("to"), f"{where}.to"),
        guards=tuple(guards),
    )


def _parse_timer(index: int, raw: Any) -> Timer:
    where = f"x-lifecycle.timers[{index}]"
    body = _mapping(raw, where)
    at_field = _text(body.get("at"), f"{where}.at")
    return Timer(
        name=str(body.get("name") or f"timer:{at_field}"),
        sources=frozenset(_names(body.get("from"), f"{where}.from")),
        at_field=at_field,
        target=_text(body.get("to"), f"{where}.to"),
    )


def _ordered_states(initial: str, groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    seen = {initial: None}
    for group in groups:
        for state in group:
            seen.setdefault(state, None)
    return tuple(seen)


def parse_lifecycle(document: Mapping[str, Any]) -> Lifecycle:
    """Build the lifecycle from a spec document; ContractError names what is wrong."""
    raw = document.get("x-lifecycle")
    if raw is None:
        raise ContractError("x-lifecycle: missing; the spec must describe its state rules")
    body = _mapping(raw, "x-lifecycle")
    initial = _text(body.get("initial"), "x-lifecycle.initial")
    terminal = frozenset(_names(body["terminal"], "x-lifecycle.terminal") if body.get("terminal") else [])
    transitions = {
        str(action): _parse_transition(str(action), move)
        for action, move in _mapping(body.get("transitions"), "x-lifecycle.transitions").items()
    }
    if not transitions:
        raise ContractError("x-lifecycle.transitions: at least one action is needed")
    timers = tuple(_parse_timer(index, timer) for index, timer in enumerate(body.get("timers") or []))
    conflict = body.get("conflict", 409)
    if not isinstance(conflict, int) or not 400 <= conflict <= 499:
        raise ContractError(f"x-lifecycle.conflict: expected a 4xx status, got {conflict!r}")
    ordered = body.get("ordered_times") or []
    if not isinstance(ordered, list) or not all(isinstance(name, str) for name in ordered):
        raise ContractError("x-lifecycle.ordered_times: expected a list of field names")
    create_into = tuple(_names(body["create_into"], "x-lifecycle.create_into")) if body.get("create_into") else ()
    updates = _mapping(body.get("updates") or {}, "x-lifecycle.updates")
    updatable = frozenset(_names(updates["in"], "x-lifecycle.updates.in")) if "in" in updates else None
    update_moves = {
        str(source): _text(target, f"x-lifecycle.updates.moves.{source}")
        for source, target in _mapping(updates.get("moves") or {}, "x-lifecycle.updates.moves").items()
    }
    states = _ordered_states(
        initial,
        [
            list(create_into),
            *([source, target] for source, target in update_moves.items()),
            *(sorted(move.sources) + sorted(move.targets()) for move in transitions.values()),
            *([*sorted(timer.sources), timer.target] for timer in timers),
            sorted(terminal),
        ],
    )
    return Lifecycle(
        status_field=_text(body.get("field", "status"), "x-lifecycle.field"),
        initial=initial,
        terminal=terminal,
        transitions=transitions,
        timers=timers,
        conflict_status=conflict,
        ordered_times=tuple(ordered),
        states=states,
        create_into=create_into,
        updatable=updatable,
        update_moves=update_moves,
    )

"""The campaign lifecycle, read from a spec's ``x-lifecycle`` extension.

State rules are data: nothing here knows a state or an action by name. The server asks
this model where an action leads; the conformance kit asks it which moves to try.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.timefmt import format_duration, format_timestamp, parse_duration, parse_moment

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
class Refusal:
    """Refuses an action with ``status`` and ``message`` when its subject (the request's
    ``param``, or the campaign's time ``field``) meets the condition: ``missing``, a time not
    after now (``before_now``: Mailchimp refuses a schedule in the past), a time after now
    (``after_now``), or a time off a grid of ``step`` from midnight UTC (Mailchimp's quarter
    hours). Refusals are judged before any guard routes the action, and nothing is changed."""

    status: int
    message: str
    param: str | None = None
    field: str | None = None
    missing: bool = False
    before_now: bool = False
    after_now: bool = False
    step: timedelta | None = None

    def subject(self) -> str:
        return str(self.param if self.param is not None else self.field)

    def refuses(
        self,
        read_time: FieldReader,
        now: datetime,
        params: Mapping[str, Any] | None = None,
        now_word: str | None = None,
    ) -> bool:
        if self.param is not None:
            value = (params or {}).get(self.param)
            if value is None:
                return self.missing
            if now_word is not None and value == now_word:
                return False  # "at once" (SendGrid's send_at: now) is what every refusal of a time allows
            moment = parse_moment(value) if isinstance(value, str) else None
        else:
            moment = read_time(str(self.field))
            if moment is None:
                return self.missing
        if moment is None:
            return False  # not a time: the schema (or the guard that stores it) answers for it
        if self.before_now and moment <= now:
            return True
        if self.after_now and moment > now:
            return True
        return self.step is not None and off_grid(moment, self.step)

    def describe(self) -> str:
        """What the request must do instead, for the default message and for reports."""
        needs = [
            text
            for flag, text in (
                (self.missing, "is required"),
                (self.before_now, "must be in the future"),
                (self.after_now, "must not be in the future"),
                (
                    self.step is not None,
                    f"must fall on a multiple of {format_duration(self.step or timedelta(0))} from midnight UTC",
                ),
            )
            if flag
        ]
        return f"{self.subject()} {' and '.join(needs)}"


def off_grid(moment: datetime, step: timedelta) -> bool:
    """Whether ``moment`` falls between multiples of ``step`` counted from midnight UTC."""
    utc = moment.astimezone(UTC)
    since_midnight = utc - utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return since_midnight % step != timedelta(0)


def next_on_grid(moment: datetime, step: timedelta) -> datetime:
    """The first multiple of ``step`` from midnight UTC at or after ``moment``."""
    utc = moment.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -((midnight - utc) // step)  # ceiling division
    return midnight + steps * step


@dataclass(frozen=True)
class Transition:
    """One action: the states it may leave from, where it lands, its guards, what refuses it,
    the members it stamps with the time (``send`` stamps ``send_time``) and those it resets."""

    action: str
    sources: frozenset[str]
    target: str
    guards: tuple[Guard, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    stamps: tuple[str, ...] = ()
    reset: Mapping[str, Any] = field(default_factory=dict)
    """Members the move sets to fixed values (``unschedule`` clears ``send_at``: ``{send_at: null}``)."""

    def targets(self) -> frozenset[str]:
        """Every state this action can land in, guards included."""
        return frozenset({self.target, *(guard.to for guard in self.guards)})


@dataclass(frozen=True)
class Timer:
    """A move the clock makes by itself once a campaign's time field, plus ``delay``, has
    passed (``send`` stamps ``send_time``; five minutes later ``sending`` becomes ``sent``)."""

    name: str
    sources: frozenset[str]
    at_field: str
    target: str
    delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class Copy:
    """An action that makes a new campaign from an existing one (Mailchimp's ``replicate``):
    every member is copied except the id, the status and the stamps, then ``reset`` members
    are set to the values it gives (``{send_time: null}``). The copy starts in the initial state; ``sources`` (None:
    any state) are the states a campaign may be copied from."""

    name: str
    sources: frozenset[str] | None
    reset: Mapping[str, Any]

    def allowed_from(self, state: str) -> bool:
        return self.sources is None or state in self.sources

    def reset_values(self, source: Mapping[str, Any], given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``reset`` with each ``{name}`` in a text replaced by the request's member of that
        name, else the source's (a copy named ``Copy of {name}``, or Klaviyo's ``{new_name}``);
        a ``{word}`` neither has stays as written."""
        known = {**source, **(given or {})}

        def fill(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            return _MEMBER_REFERENCE.sub(
                lambda match: str(known[match.group(1)]) if match.group(1) in known else match.group(0), value
            )

        return {member: fill(value) for member, value in self.reset.items()}

    def named_in_reset(self) -> frozenset[str]:
        """The names the reset texts read (``{new_name}``): a request member read there is
        used, not stored as a member of its own."""
        return frozenset(
            name for value in self.reset.values() if isinstance(value, str) for name in _MEMBER_REFERENCE.findall(value)
        )


_MEMBER_REFERENCE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


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
    copies: Mapping[str, Copy] = field(default_factory=dict)
    deletable: frozenset[str] | None = None
    delete_status: int | None = None
    now_word: str | None = None
    """A word a request may send for a time meaning "at once" (SendGrid's ``send_at: now``)."""

    def with_now(self, params: Mapping[str, Any], now: datetime) -> Mapping[str, Any]:
        """``params`` with the now word, where a member carries it, read as the time ``now``."""
        if self.now_word is None or self.now_word not in params.values():
            return params
        stamp = format_timestamp(now)
        return {key: stamp if value == self.now_word else value for key, value in params.items()}

    def may_delete(self, state: str) -> bool:
        """Whether a delete is accepted in ``state`` (``deletes.in``; default: every state)."""
        return self.deletable is None or state in self.deletable

    def delete_refusal_status(self) -> int:
        return self.delete_status if self.delete_status is not None else self.conflict_status

    def refusal(
        self, action: str, read_time: FieldReader, now: datetime, params: Mapping[str, Any] | None = None
    ) -> Refusal | None:
        """The first refusal of ``action`` that applies now, if any."""
        return next(
            (rule for rule in self.transitions[action].refusals if rule.refuses(read_time, now, params, self.now_word)),
            None,
        )

    def is_action(self, name: str) -> bool:
        """Whether ``name`` is something an operation may do: a transition or a copy."""
        return name in self.transitions or name in self.copies

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
            fields.update(rule.field for rule in move.refusals if rule.field)
            fields.update(move.stamps)
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


def _duration(value: Any, where: str) -> timedelta:
    step = parse_duration(value) if isinstance(value, str) else None
    if step is None or step <= timedelta(0):
        raise ContractError(f"{where}: expected a positive ISO 8601 duration such as PT15M or P1D, got {value!r}")
    return step


def _parse_refusal(body: Mapping[str, Any], place: str) -> Refusal:
    status = body.get("refuse")
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 499:
        raise ContractError(f"{place}.refuse: expected a 4xx status, got {status!r}")
    if ("param" in body) == ("field" in body):
        raise ContractError(f"{place}: a refusal names one of 'param' (the request's) or 'field' (the campaign's)")
    after, before = body.get("after"), body.get("before")
    for key, value in (("after", after), ("before", before)):
        if value not in (None, "now"):
            raise ContractError(f"{place}.{key}: only 'now' is understood, got {value!r}")
    missing = body.get("missing", False)
    if not isinstance(missing, bool):
        raise ContractError(f"{place}.missing: expected true or false, got {missing!r}")
    step = _duration(body["not_multiple_of"], f"{place}.not_multiple_of") if "not_multiple_of" in body else None
    if not (missing or after or before or step):
        raise ContractError(f"{place}: a refusal needs a condition: missing, before, after or not_multiple_of")
    subject = "param" if "param" in body else "field"
    refusal = Refusal(
        status=status,
        message="",
        param=_text(body["param"], f"{place}.param") if subject == "param" else None,
        field=_text(body["field"], f"{place}.field") if subject == "field" else None,
        missing=missing,
        before_now=before == "now",
        after_now=after == "now",
        step=step,
    )
    message = body.get("message")
    text = _text(message, f"{place}.message") if message is not None else f"{refusal.describe()}."
    return replace(refusal, message=text)


def _parse_guard(body: Mapping[str, Any], place: str) -> Guard:
    to = _text(body.get("to"), f"{place}.to")
    if "param" in body:
        sets = body.get("sets")
        after = body.get("after")
        if after not in (None, "now"):
            raise ContractError(f"{place}.after: only 'now' is understood, got {after!r}")
        return Guard(
            to=to,
            param=_text(body["param"], f"{place}.param"),
            sets=_text(sets, f"{place}.sets") if sets is not None else None,
            after_now=after == "now",
        )
    if body.get("after") != "now":
        raise ContractError(f"{place}: a guard needs 'param', or 'field' with 'after: now'")
    return Guard(to=to, field=_text(body.get("field"), f"{place}.field"))


def _parse_transition(action: str, raw: Any) -> Transition:
    where = f"x-lifecycle.transitions.{action}"
    body = _mapping(raw, where)
    guards: list[Guard] = []
    refusals: list[Refusal] = []
    for index, guard in enumerate(body.get("when") or []):
        place = f"{where}.when[{index}]"
        guard_body = _mapping(guard, place)
        if "refuse" in guard_body:
            refusals.append(_parse_refusal(guard_body, place))
        else:
            guards.append(_parse_guard(guard_body, place))
    stamps = body.get("stamps") or []
    if not isinstance(stamps, list) or not all(isinstance(name, str) and name for name in stamps):
        raise ContractError(f"{where}.stamps: expected a list of member names, got {stamps!r}")
    return Transition(
        action=action,
        sources=frozenset(_names(body.get("from"), f"{where}.from")),
        target=_text(body.get("to"), f"{where}.to"),
        guards=tuple(guards),
        refusals=tuple(refusals),
        stamps=tuple(stamps),
        reset=dict(_mapping(body.get("reset") or {}, f"{where}.reset")),
    )


def _parse_copy(name: str, raw: Any) -> Copy:
    where = f"x-lifecycle.copies.{name}"
    body = _mapping(raw if raw is not None else {}, where)
    reset = _mapping(body.get("reset") or {}, f"{where}.reset")
    sources = frozenset(_names(body["from"], f"{where}.from")) if body.get("from") is not None else None
    return Copy(name=name, sources=sources, reset=dict(reset))


def _parse_timer(index: int, raw: Any) -> Timer:
    where = f"x-lifecycle.timers[{index}]"
    body = _mapping(raw, where)
    at_field = _text(body.get("at"), f"{where}.at")
    return Timer(
        name=str(body.get("name") or f"timer:{at_field}"),
        sources=frozenset(_names(body.get("from"), f"{where}.from")),
        at_field=at_field,
        target=_text(body.get("to"), f"{where}.to"),
        delay=_duration(body["delay"], f"{where}.delay") if body.get("delay") is not None else timedelta(0),
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
    copies = {
        str(name): _parse_copy(str(name), copy)
        for name, copy in _mapping(body.get("copies") or {}, "x-lifecycle.copies").items()
    }
    clash = sorted(set(copies) & set(transitions))
    if clash:
        raise ContractError(f"x-lifecycle.copies: {', '.join(clash)} is also a transition; give the copy its own name")
    deletes = _mapping(body.get("deletes") or {}, "x-lifecycle.deletes")
    deletable = frozenset(_names(deletes["in"], "x-lifecycle.deletes.in")) if "in" in deletes else None
    delete_status = deletes.get("status")
    if delete_status is not None and (not isinstance(delete_status, int) or not 400 <= delete_status <= 499):
        raise ContractError(f"x-lifecycle.deletes.status: expected a 4xx status, got {delete_status!r}")
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
        copies=copies,
        deletable=deletable,
        delete_status=delete_status,
        now_word=_text(body["now_word"], "x-lifecycle.now_word") if body.get("now_word") is not None else None,
    )

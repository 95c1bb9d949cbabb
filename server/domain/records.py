"""Is this a campaign the mock could have produced? Asked of every campaign that does not come
from the API itself: seeded through ``POST /__admin/campaigns`` and loaded from a state file.

The mock must never serve what its own spec forbids: a record is checked against the
contract's campaign schema, and its history against the lifecycle (each event a move the
lifecycle allows, one after another, ending where the campaign stands, in time order).
Each problem is an ``InvalidBody`` (422) naming the place with a JSON pointer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from campaign_mock.contract.lifecycle import Lifecycle
from campaign_mock.contract.operations import Contract
from campaign_mock.contract.schemas import campaign_schema_pointer, event_schema_pointer
from campaign_mock.contract.timefmt import parse_timestamp
from campaign_mock.server.domain.campaigns import UPDATE_EVENT
from campaign_mock.server.domain.errors import InvalidBody
from campaign_mock.server.web.fast_validation import FastValidator
from campaign_mock.server.web.validation import SchemaCompiler

MAX_REPORTED = 10
EVENT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["action", "from", "to", "at"],
    "properties": {
        "action": {"type": "string", "minLength": 1},
        "from": {"type": "string"},
        "to": {"type": "string"},
        "reason": {"type": ["string", "null"]},
        "at": {"type": "string", "format": "date-time"},
    },
}
"""What every event holds, where the contract has no events operation to say more."""


def _problem(pointer: str, detail: str) -> InvalidBody:
    return InvalidBody(f"{pointer}: {detail}", extra={"errors": [{"in": "body", "pointer": pointer, "detail": detail}]})


class RecordChecks:
    def __init__(self, contract: Contract) -> None:
        compiler = SchemaCompiler(contract.document)
        campaign = campaign_schema_pointer(contract)
        event = event_schema_pointer(contract)
        self._lifecycle = contract.lifecycle
        self._campaign = compiler.at(campaign) if campaign else None
        self._event = compiler.at(event) if event else compiler.validator(EVENT_SCHEMA)

    def check(self, campaign: Mapping[str, Any], events: Sequence[Any], where: str) -> None:
        """InvalidBody naming the first problem of the record at ``where`` (a JSON pointer)."""
        lifecycle = self._lifecycle
        state = campaign.get(lifecycle.status_field)
        if state not in lifecycle.states:
            raise _problem(
                f"{where}/{lifecycle.status_field}",
                f"{state!r} is not a state of this lifecycle ({', '.join(lifecycle.states)})",
            )
        if self._campaign is not None:
            self._against(self._campaign, campaign, where, "the contract's campaign schema")
        if not isinstance(events, list):
            raise _problem(f"{where}/events", "expected a list of events")
        self._history(events, str(state), f"{where}/events")

    @staticmethod
    def _against(validator: FastValidator, value: Any, where: str, what: str) -> None:
        if validator.is_valid(value):
            return
        errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
        if errors:
            entries = [
                {"in": "body", "pointer": where + "".join(f"/{p}" for p in e.absolute_path), "detail": e.message}
                for e in errors[:MAX_REPORTED]
            ]
            first = entries[0]
            raise InvalidBody(f"{first['pointer']}: {first['detail']} ({what})", extra={"errors": entries})

    def _history(self, events: list[Any], state: str, where: str) -> None:
        lifecycle = self._lifecycle
        previous_to, previous_at = None, None
        for index, event in enumerate(events):
            here = f"{where}/{index}"
            self._against(self._event, event, here, "an event")
            source, target, action = str(event["from"]), str(event["to"]), str(event["action"])
            if index == 0 and source not in lifecycle.creatable():
                raise _problem(
                    f"{here}/from", f"a history starts where a create lands ({', '.join(lifecycle.creatable())})"
                )
            if previous_to is not None and source != previous_to:
                raise _problem(
                    f"{here}/from", f"{source!r} does not follow the event before it, which ended in {previous_to!r}"
                )
            why_not = _not_a_move(lifecycle, action, source, target)
            if why_not:
                raise _problem(here, why_not)
            moment = parse_timestamp(str(event["at"]))
            if moment is None:
                raise _problem(f"{here}/at", "not an RFC 3339 date-time")
            if previous_at is not None and moment < previous_at:
                raise _problem(f"{here}/at", "earlier than the event before it; a history is in time order")
            previous_to, previous_at = target, moment
        if previous_to is not None and previous_to != state:
            raise _problem(where, f"the history ends in {previous_to!r}, yet the campaign is {state!r}")


def _not_a_move(lifecycle: Lifecycle, action: str, source: str, target: str) -> str | None:
    """Why (action, from, to) is no move this lifecycle makes; None when it is one."""
    move = lifecycle.transitions.get(action)
    if move is not None:
        if source not in move.sources:
            return f"{action} is not allowed from {source!r} (allowed from {', '.join(sorted(move.sources))})"
        if target not in move.targets():
            return f"{action} from {source!r} lands in {' or '.join(sorted(move.targets()))}, not {target!r}"
        return None
    timers = [timer for timer in lifecycle.timers if timer.name == action]
    if timers:
        if any(source in timer.sources and target == timer.target for timer in timers):
            return None
        return f"the clock's move {action} does not take {source!r} to {target!r}"
    if action == UPDATE_EVENT:
        if lifecycle.may_update(source) and lifecycle.after_update(source) == target != source:
            return None
        return f"an update does not move a campaign from {source!r} to {target!r}"
    known = [*lifecycle.transitions, *(timer.name for timer in lifecycle.timers)]
    return f"{action!r} is no action or clock move of this lifecycle ({', '.join(known)})"

"""Schemathesis hooks that teach it the rules a contract states outside JSON Schema.

JSON Schema cannot say "``end_at`` is after ``start_at``"; the contract says it as data
(``x-lifecycle.ordered_times``). Without this hook schemathesis would send contradictory
times as "valid" data and blame the server for the 422 the contract documents. Dropped too:
a list request carrying a made-up cursor (``paging: cursor``: only tokens the list gave are
taken) and an action carrying a member its refusals read (``when: [{refuse: ...}]``: the
lifecycle says which values pass; the kit's ``lifecycle.refusal`` judges them). Nothing else
is filtered.

Loaded by ``schemathesis.toml`` (``hooks = "campaign_mock.conformance.schemathesis_hooks"``) and by the kit.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import schemathesis

from campaign_mock.contract.envelopes import unwrap
from campaign_mock.contract.timefmt import parse_timestamp


def ordered_time_fields(document: Mapping[str, Any]) -> list[str]:
    lifecycle = document.get("x-lifecycle")
    fields = lifecycle.get("ordered_times") if isinstance(lifecycle, Mapping) else None
    return [str(name) for name in fields] if isinstance(fields, list) else []


def breaks_time_order(body: Any, fields: list[str]) -> bool:
    """True when two of ``fields`` are both given and the later one is not after the earlier."""
    if not isinstance(body, Mapping):
        return False
    for earlier, later in pairwise(fields):
        first, second = body.get(earlier), body.get(later)
        if isinstance(first, str) and isinstance(second, str):
            start, end = parse_timestamp(first), parse_timestamp(second)
            if start is not None and end is not None and end <= start:
                return True
    return False


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    operation = getattr(context, "operation", None)
    if operation is None:
        return True
    raw = getattr(getattr(operation, "definition", None), "raw", None)
    extension = raw.get("x-operation") if isinstance(raw, Mapping) else None
    extension = extension if isinstance(extension, Mapping) else {}
    document = operation.schema.raw_schema
    members = unwrap(extension.get("request_envelope"), case.body)
    if breaks_time_order(members, ordered_time_fields(document)):
        return False
    if extension.get("paging") == "cursor" and str(extension.get("cursor_param", "cursor")) in (case.query or {}):
        return False  # a made-up token is one the list never gave: refusing it is the promise
    return not (isinstance(members, Mapping) and set(members) & refused_members(document, extension))


def refused_members(document: Mapping[str, Any], extension: Mapping[str, Any]) -> set[str]:
    """Request members an action's refusals read (a schedule time): the lifecycle, not the
    schema, says which values pass, so a schema-valid one may rightly be refused."""
    transitions = (document.get("x-lifecycle") or {}).get("transitions") or {}
    actions = [extension.get("action"), *(extension.get("actions") or [])]
    return {
        str(guard["param"])
        for action in actions
        if isinstance(transitions.get(action), Mapping)
        for guard in transitions[action].get("when") or []
        if isinstance(guard, Mapping) and "refuse" in guard and "param" in guard
    }

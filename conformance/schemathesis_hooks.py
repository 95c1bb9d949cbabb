"""Schemathesis hooks that teach it the rules a contract states outside JSON Schema.

JSON Schema cannot say "``end_at`` is after ``start_at``"; the contract says it as data
(``x-lifecycle.ordered_times``). Without this hook schemathesis would send contradictory
times as "valid" data and blame the server for the 422 the contract documents. Only
cases that break the stated order are dropped; nothing else is filtered.

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
    template = extension.get("request_envelope") if isinstance(extension, Mapping) else None
    return not breaks_time_order(unwrap(template, case.body), ordered_time_fields(operation.schema.raw_schema))

"""The admin API (``openapi/admin.yaml``): reset, seed, journal, clock, faults, config.

Handlers are looked up by the admin spec's ``x-operation.action``; requests are validated
by the same compiled validators as the API, and errors use the configured format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from campaign_mock.contract.timefmt import format_timestamp, parse_timestamp
from campaign_mock.server.domain.clock import ClockRangeError, check_in_range
from campaign_mock.server.domain.errors import InvalidBody
from campaign_mock.server.domain.records import RecordChecks
from campaign_mock.server.traffic.faults import parse_rule
from campaign_mock.server.web.handlers import Reply
from campaign_mock.server.web.validation import ValidRequest
from campaign_mock.server.worlds.runtime import Runtime

AdminHandler = Callable[[ValidRequest], Reply]


def _clock_state(runtime: Runtime) -> dict[str, Any]:
    return {"now": format_timestamp(runtime.clock.now()), "frozen": runtime.clock.frozen}


def _set_clock(runtime: Runtime, body: dict[str, Any]) -> None:
    moment = parse_timestamp(body["now"]) if "now" in body else None
    if "now" in body and moment is None:
        raise InvalidBody(f"now: {body['now']!r} is not an RFC 3339 date-time")
    # Freeze before setting and unfreeze after, so the clock stands exactly at ``now``.
    try:
        if moment is not None:
            check_in_range(moment)
        if body.get("frozen") is True:
            runtime.clock.freeze()
        if moment is not None:
            runtime.clock.set(moment)
    except ClockRangeError as exc:
        raise InvalidBody(f"now: {exc}") from exc
    if body.get("frozen") is False:
        runtime.clock.unfreeze()


def _set_faults(runtime: Runtime, body: dict[str, Any]) -> None:
    known = {operation.operation_id for operation in runtime.contract.operations} | {"*"}
    rules = []
    for index, raw in enumerate(body["faults"]):
        try:
            rule = parse_rule(raw)
        except ValueError as exc:
            raise InvalidBody(f"faults/{index}: {exc}") from exc
        if rule.operation not in known:
            raise InvalidBody(
                f"faults/{index}/operation: {rule.operation!r} is not an operation of the served contract; "
                f"known: {', '.join(sorted(known))}"
            )
        rules.append(rule)
    runtime.faults.replace(rules, int(body.get("seed", 0)))


def admin_handlers(runtime: Runtime, records: RecordChecks) -> dict[str, AdminHandler]:
    """One handler per admin action; ``records`` checks seeded campaigns against the contract."""

    def reset(request: ValidRequest) -> Reply:
        runtime.reset()
        return Reply(204)

    def seed(request: ValidRequest) -> Reply:
        prepared = []
        for index, fields in enumerate(request.body["campaigns"]):
            campaign, events = runtime.service.prepare_seed(fields)
            records.check(campaign, events, f"/campaigns/{index}")
            prepared.append((campaign, events))
        return Reply(201, {"data": runtime.service.store_seeds(prepared)})

    def journal(request: ValidRequest) -> Reply:
        query = request.query
        entries, total = runtime.journal.entries(
            method=query.get("method"), path=query.get("path"), status=query.get("status"), limit=int(query["limit"])
        )
        return Reply(200, {"total": total, "data": [entry.as_dict(runtime.redactor) for entry in entries]})

    def clear_journal(request: ValidRequest) -> Reply:
        runtime.journal.clear()
        return Reply(204)

    def get_clock(request: ValidRequest) -> Reply:
        return Reply(200, _clock_state(runtime))

    def set_clock(request: ValidRequest) -> Reply:
        _set_clock(runtime, request.body)
        return Reply(200, _clock_state(runtime))

    def advance_clock(request: ValidRequest) -> Reply:
        try:
            runtime.clock.advance(timedelta(seconds=float(request.body["seconds"])))
        except ClockRangeError as exc:
            raise InvalidBody(f"seconds: {exc}") from exc
        return Reply(200, _clock_state(runtime))

    def get_faults(request: ValidRequest) -> Reply:
        return Reply(200, runtime.faults.describe())

    def set_faults(request: ValidRequest) -> Reply:
        _set_faults(runtime, request.body)
        return Reply(200, runtime.faults.describe())

    def clear_faults(request: ValidRequest) -> Reply:
        runtime.faults.replace([], 0)
        return Reply(204)

    def config(request: ValidRequest) -> Reply:
        return Reply(
            200,
            {
                **runtime.described_settings,
                "spec": runtime.contract.origin,
                "error_format": runtime.error_format.name,
                "rate_limit": runtime.traffic.policy.describe(),
                "faults": runtime.faults.describe(),
                "clock": _clock_state(runtime),
            },
        )

    return {
        "reset": reset,
        "seed": seed,
        "journal": journal,
        "clear-journal": clear_journal,
        "get-clock": get_clock,
        "set-clock": set_clock,
        "advance-clock": advance_clock,
        "get-faults": get_faults,
        "set-faults": set_faults,
        "clear-faults": clear_faults,
        "config": config,
    }

"""The admin API (``openapi/admin.yaml``): reset, seed, journal, client report, clock, faults,
config, and the sandboxes themselves.

Handlers are looked up by the admin spec's ``x-operation.action``; each is given the world
of its request (``/sandboxes/NAME/__admin/...`` steers that sandbox, ``/__admin/...`` the
default one). Requests are validated by the same compiled validators as the API, and errors
use the configured format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from campaign_mock.contract.timefmt import format_timestamp, parse_timestamp
from campaign_mock.server.domain.campaigns import ID_FIELD
from campaign_mock.server.domain.clock import ClockRangeError, check_in_range
from campaign_mock.server.domain.errors import Conflict, InvalidBody, InvalidRequest, NotFound
from campaign_mock.server.domain.records import RecordChecks
from campaign_mock.server.domain.seed_history import require_a_history
from campaign_mock.server.traffic.client_report import ReportOptions, build_report, operation_facts
from campaign_mock.server.traffic.faults import parse_rule
from campaign_mock.server.web.handlers import Reply
from campaign_mock.server.web.validation import ValidRequest
from campaign_mock.server.worlds.registry import check_name
from campaign_mock.server.worlds.runtime import Runtime
from campaign_mock.server.worlds.world import DEFAULT_WORLD, World

AdminHandler = Callable[[World, ValidRequest], Reply]
REPORT_ENTRIES = 10_000  # the newest the client report reads: about 0.1 s of rules (12 ms per 1,000 here)


def _clock_state(world: World) -> dict[str, Any]:
    return {"now": format_timestamp(world.clock.now()), "frozen": world.clock.frozen}


def _set_clock(world: World, body: dict[str, Any]) -> None:
    moment = parse_timestamp(body["now"]) if "now" in body else None
    if "now" in body and moment is None:
        raise InvalidBody(f"now: {body['now']!r} is not an RFC 3339 date-time")
    # Freeze before setting and unfreeze after, so the clock stands exactly at ``now``.
    try:
        if moment is not None:
            check_in_range(moment)
        if body.get("frozen") is True:
            world.clock.freeze()
        if moment is not None:
            world.clock.set(moment)
    except ClockRangeError as exc:
        raise InvalidBody(f"now: {exc}") from exc
    if body.get("frozen") is False:
        world.clock.unfreeze()


def _set_faults(runtime: Runtime, world: World, body: dict[str, Any]) -> None:
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
    world.faults.replace(rules, int(body.get("seed", 0)))


def _campaigns_view(world: World, query: dict[str, Any]) -> dict[str, Any]:
    """The newest campaigns (each with the end of its history) and the count in every state:
    what a person watching the mock wants, in one call."""
    service = world.service
    lifecycle = service.lifecycle
    wanted = frozenset([str(query["status"])]) if query.get("status") else None
    if wanted and not wanted <= set(lifecycle.states):
        raise InvalidRequest(
            f"status: {query['status']!r} is not a state of the lifecycle; states: {', '.join(lifecycle.states)}"
        )
    limit, offset, history = int(query["limit"]), int(query["offset"]), int(query["events"])
    _, total = service.page(wanted, 0, 0)
    start = max(0, total - offset - limit)
    page, _ = service.page(wanted, start, max(0, min(limit, total - offset)))
    shown = []
    for campaign in reversed(page):
        campaign_id = str(campaign[ID_FIELD])
        try:
            _, length = service.events(campaign_id, 0, 0)
            events, _ = service.events(campaign_id, max(0, length - history), history)
        except NotFound:
            continue  # deleted since the page was read
        shown.append({**campaign, "events": events, "events_total": length})
    by_status = {state: service.page(frozenset([state]), 0, 0)[1] for state in lifecycle.states}
    return {"total": total, "by_status": by_status, "data": shown}


def _sandbox(runtime: Runtime, world: World) -> dict[str, Any]:
    return {
        "name": world.name,
        "campaigns": world.service.count(),
        "last_used": format_timestamp(datetime.fromtimestamp(runtime.worlds.last_used(world), UTC)),
    }


def admin_handlers(runtime: Runtime, records: RecordChecks) -> dict[str, AdminHandler]:
    """One handler per admin action; ``records`` checks seeded campaigns against the contract."""
    facts = operation_facts(runtime.contract)  # the client report's view of the contract, read once

    def reset(world: World, request: ValidRequest) -> Reply:
        world.reset()
        return Reply(204)

    def seed(world: World, request: ValidRequest) -> Reply:
        prepared, status = [], runtime.contract.lifecycle.status_field
        for index, fields in enumerate(request.body["campaigns"]):
            campaign, events = world.service.prepare_seed(fields)
            records.check(campaign, events, f"/campaigns/{index}")
            require_a_history(runtime.contract.lifecycle, str(campaign[status]), events, f"/campaigns/{index}")
            prepared.append((campaign, events))
        return Reply(201, {"data": world.service.store_seeds(prepared)})

    def list_campaigns(world: World, request: ValidRequest) -> Reply:
        return Reply(200, _campaigns_view(world, request.query))

    def journal(world: World, request: ValidRequest) -> Reply:
        query = request.query
        entries, total = world.journal.entries(
            method=query.get("method"), path=query.get("path"), status=query.get("status"), limit=int(query["limit"])
        )
        return Reply(200, {"total": total, "data": [entry.as_dict(runtime.redactor) for entry in entries]})

    def client_report(world: World, request: ValidRequest) -> Reply:
        query = request.query
        try:
            options = ReportOptions.asking_for(
                [name for name in str(query.get("rules") or "").split(",") if name],
                duplicate_window_seconds=float(query["duplicate_window"]),
                examples=int(query["examples"]),
            )
        except ValueError as exc:
            raise InvalidRequest(f"rules: {exc}") from exc
        entries, total = world.journal.entries(limit=REPORT_ENTRIES)
        report = build_report(entries, total, facts, runtime.redactor, options)
        return Reply(200, report.as_dict(runtime.redactor))

    def clear_journal(world: World, request: ValidRequest) -> Reply:
        world.journal.clear()
        return Reply(204)

    def get_clock(world: World, request: ValidRequest) -> Reply:
        return Reply(200, _clock_state(world))

    def set_clock(world: World, request: ValidRequest) -> Reply:
        _set_clock(world, request.body)
        return Reply(200, _clock_state(world))

    def advance_clock(world: World, request: ValidRequest) -> Reply:
        try:
            world.clock.advance(timedelta(seconds=float(request.body["seconds"])))
        except ClockRangeError as exc:
            raise InvalidBody(f"seconds: {exc}") from exc
        return Reply(200, _clock_state(world))

    def get_faults(world: World, request: ValidRequest) -> Reply:
        return Reply(200, world.faults.describe())

    def set_faults(world: World, request: ValidRequest) -> Reply:
        _set_faults(runtime, world, request.body)
        return Reply(200, world.faults.describe())

    def clear_faults(world: World, request: ValidRequest) -> Reply:
        world.faults.replace([], 0)
        return Reply(204)

    def config(world: World, request: ValidRequest) -> Reply:
        return Reply(
            200,
            {
                **runtime.described_settings,
                "sandbox": world.name,
                "spec": runtime.contract.origin,
                "base_path": runtime.contract.base_path,
                "error_format": runtime.error_format.name,
                "rate_limit": runtime.policy.describe(),
                "faults": world.faults.describe(),
                "clock": _clock_state(world),
                "operations": [operation.operation_id for operation in runtime.contract.operations],
            },
        )

    def list_sandboxes(world: World, request: ValidRequest) -> Reply:
        worlds = runtime.worlds.all()
        policy = runtime.worlds.policy
        return Reply(
            200,
            {
                "total": len(worlds),
                "mode": policy.mode,
                "ttl_seconds": policy.ttl_seconds,
                "limit": policy.limit,
                "data": [_sandbox(runtime, each) for each in worlds],
            },
        )

    def create_sandbox(world: World, request: ValidRequest) -> Reply:
        made, created = runtime.worlds.create(str(request.path["name"]))
        return Reply(201 if created else 200, _sandbox(runtime, made))

    def drop_sandbox(world: World, request: ValidRequest) -> Reply:
        name = str(request.path["name"])
        if name == DEFAULT_WORLD:
            raise Conflict("The default sandbox stays: POST /__admin/reset empties it.")
        check_name(name)
        if not runtime.worlds.drop(name):
            raise NotFound(f"No sandbox {name!r}.")
        return Reply(204)

    return {
        "reset": reset,
        "seed": seed,
        "list-campaigns": list_campaigns,
        "journal": journal,
        "clear-journal": clear_journal,
        "client-report": client_report,
        "get-clock": get_clock,
        "set-clock": set_clock,
        "advance-clock": advance_clock,
        "get-faults": get_faults,
        "set-faults": set_faults,
        "clear-faults": clear_faults,
        "config": config,
        "list-sandboxes": list_sandboxes,
        "create-sandbox": create_sandbox,
        "drop-sandbox": drop_sandbox,
    }

"""What each kind of operation does with a validated request: call the domain, shape the reply.

One small function per ``x-operation.kind``; none of them knows a path or a state name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract.operations import Contract, Operation
from server.campaigns import ID_FIELD, CampaignService, entity_tag
from server.store import Record
from server.validation import ValidRequest


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[ValidRequest], Reply]


def _campaign_id(operation: Operation, request: ValidRequest) -> str:
    names = [parameter.name for parameter in operation.parameters_in("path")]
    return str(request.path[names[0]])


def _campaign_reply(status: int, record: Record) -> Reply:
    return Reply(status, record.campaign, {"ETag": entity_tag(record)})


def _if_match(request: ValidRequest) -> str | None:
    value = request.headers.get("If-Match")
    return None if value is None else str(value)


def _location_template(contract: Contract) -> Callable[[str], str] | None:
    reader = contract.one_of_kind("get")
    if reader is None or not reader.parameters_in("path"):
        return None
    placeholder = "{" + reader.parameters_in("path")[0].name + "}"
    template = contract.base_path + reader.path
    return lambda campaign_id: template.replace(placeholder, campaign_id)


def build_handler(contract: Contract, operation: Operation, service: CampaignService) -> Handler:
    """The handler for one operation, chosen by its ``x-operation.kind``."""
    success = operation.success_status()

    if operation.kind == "create":
        location = _location_template(contract)

        def create(request: ValidRequest) -> Reply:
            record = service.create_record(request.body or {})
            headers = {"ETag": entity_tag(record)}
            if location:
                headers["Location"] = location(record.campaign[ID_FIELD])
            return Reply(success, record.campaign, headers)

        return create

    if operation.kind == "list":

        def list_page(request: ValidRequest) -> Reply:
            statuses = request.query.get("status")
            limit, offset = int(request.query["limit"]), int(request.query["offset"])
            data, total = service.page(frozenset(statuses) if statuses else None, offset, limit)
            pagination = {"total": total, "limit": limit, "offset": offset, "has_more": offset + len(data) < total}
            return Reply(success, {"data": data, "pagination": pagination})

        return list_page

    if operation.kind == "get":
        return lambda request: _campaign_reply(success, service.read(_campaign_id(operation, request)))

    if operation.kind == "update":
        return lambda request: _campaign_reply(
            success, service.update(_campaign_id(operation, request), request.body or {}, _if_match(request))
        )

    if operation.kind == "delete":

        def delete(request: ValidRequest) -> Reply:
            service.delete(_campaign_id(operation, request))
            return Reply(success)

        return delete

    if operation.kind == "events":
        return lambda request: Reply(success, {"data": service.events(_campaign_id(operation, request))})

    action = str(operation.action)

    def transition(request: ValidRequest) -> Reply:
        reason = (request.body or {}).get("reason")
        return _campaign_reply(
            success, service.act(_campaign_id(operation, request), action, reason, _if_match(request))
        )

    return transition

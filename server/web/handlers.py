"""What each kind of operation does with a validated request: call the domain, shape the reply.

One small function per ``x-operation.kind``; none of them knows a path or a state name.
Answers are shaped by the operation's envelope (``contract.envelopes``); a success the
contract documents without content is answered without a body.
"""

from __future__ import annotations

from collections.abc import Callable

from campaign_mock.contract import envelopes
from campaign_mock.contract.operations import Contract, Operation
from campaign_mock.contract.pointers import read_pointer
from campaign_mock.server.domain.campaigns import ID_FIELD, CampaignService
from campaign_mock.server.domain.errors import InvalidBody
from campaign_mock.server.domain.tenancy import Tenancy
from campaign_mock.server.stores.base import Record
from campaign_mock.server.web.list_handler import events_handler, list_handler
from campaign_mock.server.web.replies import Handler, IdReader, Reply, Shaper, body_params
from campaign_mock.server.web.validation import ValidRequest

__all__ = ["Handler", "Reply", "build_handler"]


def _path_id(operation: Operation, request: ValidRequest) -> str:
    """The id from the path, or from the body where ``x-operation.id_from_body`` names it."""
    in_body = operation.extension.get("id_from_body")
    if in_body:
        named = str(in_body)  # a member's name, or a JSON pointer (JSON:API's /data/id)
        found = read_pointer(request.body, named) if named.startswith("/") else body_params(request).get(named)
        return str(found)
    names = [parameter.name for parameter in operation.parameters_in("path")]
    return str(request.path[names[0]])


def _id_reader(operation: Operation, tenancy: Tenancy | None) -> IdReader:
    """The campaign id a request names; under tenancy, 404 unless the key's tenant owns it."""
    if tenancy is None:
        return lambda service, request: _path_id(operation, request)

    def owned(service: CampaignService, request: ValidRequest) -> str:
        campaign_id = _path_id(operation, request)
        tenancy.check_campaign(service.get(campaign_id), request.tenant, campaign_id)
        return campaign_id

    return owned


def _if_match(request: ValidRequest) -> str | None:
    value = request.headers.get("If-Match")
    return None if value is None else str(value)


def _location_headers(contract: Contract) -> Callable[[ValidRequest, Record], dict[str, str]]:
    """``Location`` of a campaign a request made (by create or copy): where the read finds it;
    no header where the contract has no read by id."""
    reader = contract.one_of_kind("get")
    if reader is None or not reader.parameters_in("path"):
        return lambda request, record: {}
    placeholder = "{" + reader.parameters_in("path")[0].name + "}"
    template = contract.base_path + reader.path
    return lambda request, record: {
        "Location": request.prefix + template.replace(placeholder, str(record.campaign[ID_FIELD]))
    }


def build_handler(contract: Contract, operation: Operation, tenancy: Tenancy | None = None) -> Handler:
    """The handler for one operation, chosen by its ``x-operation.kind``."""
    shaper = Shaper(operation)
    _campaign_id = _id_reader(operation, tenancy)

    if operation.kind == "create":
        located = _location_headers(contract)

        def create(service: CampaignService, request: ValidRequest) -> Reply:
            fields = dict(operation.members_in(body_params(request)))
            if tenancy is not None:
                tenancy.check_workspace(fields.get(tenancy.field), request.tenant)
                fields[tenancy.field] = tenancy.require_known(request.tenant)
            record = service.create_record(fields)
            return shaper.campaign(record, located(request, record))

        return create

    if operation.kind == "list":
        return list_handler(contract, operation, tenancy)

    if operation.kind == "get":
        return lambda service, request: shaper.campaign(service.read(_campaign_id(service, request)))

    if operation.kind == "status":
        status_field = contract.lifecycle.status_field

        def status(service: CampaignService, request: ValidRequest) -> Reply:
            campaign = service.get(_campaign_id(service, request))
            return shaper.reply({envelopes.STATUS: {status_field: campaign[status_field]}})

        return status

    if operation.kind == "update":
        return lambda service, request: shaper.campaign(
            service.update(
                _campaign_id(service, request), operation.members_in(body_params(request)), _if_match(request)
            )
        )

    if operation.kind == "delete":

        def delete(service: CampaignService, request: ValidRequest) -> Reply:
            service.delete(_campaign_id(service, request))
            return shaper.reply({})

        return delete

    if operation.kind == "events":
        return events_handler(contract, operation, _campaign_id)

    if operation.kind == "copy":
        located = _location_headers(contract)

        def copy(service: CampaignService, request: ValidRequest) -> Reply:
            given = operation.members_in(body_params(request))
            record = service.copy(_campaign_id(service, request), operation.actions[0], _if_match(request), given)
            return shaper.campaign(record, located(request, record))

        return copy

    copies = contract.lifecycle.copies

    def transition(service: CampaignService, request: ValidRequest) -> Reply:
        params = operation.members_in(body_params(request))
        action = str(params.get(operation.action_field)) if operation.action_field else operation.actions[0]
        if not operation.serves(action):
            raise InvalidBody(
                f"{operation.action_field} must be one of {', '.join(operation.actions)}.",
                extra={"errors": [{"in": "body", "name": operation.action_field, "detail": "unknown action"}]},
            )
        campaign_id = _campaign_id(service, request)
        if action in copies:
            given = {key: value for key, value in params.items() if key != operation.action_field}
            return shaper.campaign(service.copy(campaign_id, action, _if_match(request), given))
        return shaper.campaign(service.act(campaign_id, action, params, _if_match(request)))

    return transition

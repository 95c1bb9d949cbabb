"""What each kind of operation does with a validated request: call the domain, shape the reply.

One small function per ``x-operation.kind``; none of them knows a path or a state name.
Answers are shaped by the operation's envelope (``contract.envelopes``); a success the
contract documents without content is answered without a body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from campaign_mock.contract import envelopes
from campaign_mock.contract.listing import Listing, listing_of, parameter_names, parse_page
from campaign_mock.contract.operations import Contract, Operation
from campaign_mock.server.domain.campaigns import ID_FIELD, CampaignService, entity_tag
from campaign_mock.server.domain.errors import InvalidBody, InvalidRequest
from campaign_mock.server.domain.tenancy import Tenancy
from campaign_mock.server.stores.base import Campaign, Record
from campaign_mock.server.web.validation import ValidRequest


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[CampaignService, ValidRequest], Reply]
"""What an operation does with a validated request, in the world (service) of that request."""
IdReader = Callable[[CampaignService, ValidRequest], str]


def _path_id(operation: Operation, request: ValidRequest) -> str:
    """The id from the path, or from the body where ``x-operation.id_from_body`` names it."""
    in_body = operation.extension.get("id_from_body")
    if in_body:
        return str(_params(request).get(str(in_body)))
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


def _location_template(contract: Contract) -> Callable[[str], str] | None:
    reader = contract.one_of_kind("get")
    if reader is None or not reader.parameters_in("path"):
        return None
    placeholder = "{" + reader.parameters_in("path")[0].name + "}"
    template = contract.base_path + reader.path
    return lambda campaign_id: template.replace(placeholder, campaign_id)


class Shaper:
    """Writes one operation's success: its status, its envelope, or no body when none is documented."""

    def __init__(self, operation: Operation) -> None:
        self.status = operation.success_status()
        response = operation.responses.get(str(self.status))
        self._has_body = bool(response and response.content_types)
        self._envelope = operation.envelope

    def reply(self, values: Mapping[str, Any], headers: dict[str, str] | None = None) -> Reply:
        body = envelopes.fill(self._envelope, values) if self._has_body else None
        return Reply(self.status, body, headers or {})

    def campaign(self, record: Record, headers: dict[str, str] | None = None) -> Reply:
        return self.reply({envelopes.CAMPAIGN: record.campaign}, {"ETag": entity_tag(record), **(headers or {})})


def _list_params(listing: Listing, request: ValidRequest) -> Mapping[str, Any]:
    return _params(request) if listing.in_body else request.query


def _id_order(value: Any) -> tuple[int, int, str]:
    """Numeric ids by number, others by text, so keyset paging works for both."""
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _matcher(listing: Listing, request: ValidRequest) -> Callable[[Campaign], bool] | None:
    """The search (case-insensitive substring of any search field) and the keyset start."""
    params = _list_params(listing, request)
    term = params.get(listing.search) if listing.search else None
    after = params.get(listing.after) if listing.after else None
    search = keyset = None
    if term:
        needle = str(term).lower()

        def search(campaign: Campaign) -> bool:
            return any(needle in str(campaign.get(name) or "").lower() for name in listing.search_fields)

    if after is not None:
        start = _id_order(after)

        def keyset(campaign: Campaign) -> bool:
            return _id_order(campaign[ID_FIELD]) > start

    return _both(search, keyset)


def _order(listing: Listing, request: ValidRequest) -> tuple[str, bool] | None:
    params = _list_params(listing, request)
    value = params.get(listing.sort) if listing.sort else None
    if not value:
        return listing.order  # the contract's default order (x-operation.order), else creation order
    text = str(value)
    return (text[1:], True) if text.startswith("-") else (text, False)


def _window(listing: Listing, request: ValidRequest) -> tuple[int, int]:
    """(offset, limit) of the requested page, whichever paging style the operation uses."""
    params = _list_params(listing, request)
    if listing.style == "page":
        raw = params.get(str(listing.page))
        if raw is None:
            return 0, listing.default_size
        try:
            return parse_page(str(raw), listing.default_size)
        except ValueError as exc:
            raise InvalidRequest(str(exc), extra={"errors": [{"in": "query", "name": listing.page}]}) from None
    limit = params.get(str(listing.limit)) if listing.limit else None
    offset = params.get(str(listing.offset)) if listing.offset else None
    return int(offset or 0), int(limit or listing.default_size)


def _both(
    first: Callable[[Campaign], bool] | None, second: Callable[[Campaign], bool] | None
) -> Callable[[Campaign], bool] | None:
    if first is None or second is None:
        return first or second
    return lambda campaign: first(campaign) and second(campaign)


def _list_handler(contract: Contract, operation: Operation, tenancy: Tenancy | None) -> Handler:
    shaper = Shaper(operation)
    names = parameter_names(contract.document, operation)
    listing = listing_of(operation.extension, names, contract.lifecycle.status_field)

    def list_page(service: CampaignService, request: ValidRequest) -> Reply:
        raw = _list_params(listing, request).get(listing.status) if listing.status else None
        statuses = frozenset(raw if isinstance(raw, list) else [raw]) if raw else None
        offset, limit = _window(listing, request)
        match = _matcher(listing, request)
        if tenancy is not None:
            tenancy.check_workspace(request.query.get(tenancy.query) if tenancy.query else None, request.tenant)
            match = _both(tenancy.matcher(request.tenant), match)
        data, total = service.page(statuses, offset, limit, match, _order(listing, request))
        return shaper.reply(_page_values(envelopes.ITEMS, data, total, offset, limit))

    return list_page


def _page_values(placeholder: str, items: list[Any], total: int, offset: int, limit: int | None) -> dict[str, Any]:
    """An envelope's values for one page of ``items`` (campaigns, or events) of ``total``."""
    more = offset + len(items) < total
    return {
        placeholder: items,
        envelopes.TOTAL: total,
        envelopes.LIMIT: limit,
        envelopes.OFFSET: offset,
        envelopes.HAS_MORE: more,
        envelopes.PAGINATION: {"total": total, "limit": limit, "offset": offset, "has_more": more},
    }


def _events_handler(contract: Contract, operation: Operation, campaign_id: IdReader) -> Handler:
    """A campaign's history, paged like a list where the operation has paging parameters."""
    shaper = Shaper(operation)
    names = parameter_names(contract.document, operation)
    paging = listing_of(operation.extension, names, contract.lifecycle.status_field)

    def events(service: CampaignService, request: ValidRequest) -> Reply:
        offset, limit = _window(paging, request) if paging.limit or paging.page else (0, None)
        items, total = service.events(campaign_id(service, request), offset, limit)
        return shaper.reply(_page_values(envelopes.EVENTS, items, total, offset, limit))

    return events


def _params(request: ValidRequest) -> Mapping[str, Any]:
    return request.body if isinstance(request.body, Mapping) else {}


def build_handler(contract: Contract, operation: Operation, tenancy: Tenancy | None = None) -> Handler:
    """The handler for one operation, chosen by its ``x-operation.kind``."""
    shaper = Shaper(operation)
    _campaign_id = _id_reader(operation, tenancy)

    if operation.kind == "create":
        location = _location_template(contract)

        def create(service: CampaignService, request: ValidRequest) -> Reply:
            fields = dict(_params(request))
            if tenancy is not None:
                tenancy.check_workspace(fields.get(tenancy.field), request.tenant)
                fields[tenancy.field] = tenancy.require_known(request.tenant)
            record = service.create_record(fields)
            headers = {"Location": request.prefix + location(str(record.campaign[ID_FIELD]))} if location else {}
            return shaper.campaign(record, headers)

        return create

    if operation.kind == "list":
        return _list_handler(contract, operation, tenancy)

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
            service.update(_campaign_id(service, request), _params(request), _if_match(request))
        )

    if operation.kind == "delete":

        def delete(service: CampaignService, request: ValidRequest) -> Reply:
            service.delete(_campaign_id(service, request))
            return shaper.reply({})

        return delete

    if operation.kind == "events":
        return _events_handler(contract, operation, _campaign_id)

    def transition(service: CampaignService, request: ValidRequest) -> Reply:
        params = _params(request)
        action = str(params.get(operation.action_field)) if operation.action_field else operation.actions[0]
        if not operation.serves(action):
            raise InvalidBody(
                f"{operation.action_field} must be one of {', '.join(operation.actions)}.",
                extra={"errors": [{"in": "body", "name": operation.action_field, "detail": "unknown action"}]},
            )
        return shaper.campaign(service.act(_campaign_id(service, request), action, params, _if_match(request)))

    return transition

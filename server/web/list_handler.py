"""List and events operations: filter, order and page campaigns (or a history) as the
contract's ``x-operation`` says (``contract.listing``: filter spellings, sort and direction,
paging styles), then shape the page by its envelope."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from campaign_mock.contract import envelopes
from campaign_mock.contract.listing import Listing, cursor_offset, cursor_token, listing_of, parameter_names, parse_page
from campaign_mock.contract.operations import Contract, Operation
from campaign_mock.server.domain.campaigns import ID_FIELD, CampaignService
from campaign_mock.server.domain.errors import InvalidRequest
from campaign_mock.server.domain.tenancy import Tenancy
from campaign_mock.server.stores.base import Campaign
from campaign_mock.server.web.replies import Handler, IdReader, Reply, Shaper, body_params
from campaign_mock.server.web.validation import ValidRequest


def _list_params(listing: Listing, request: ValidRequest) -> Mapping[str, Any]:
    return body_params(request) if listing.in_body else request.query


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

    return _both(_both(search, keyset), _member_filter(listing, params))


def _member_filter(listing: Listing, params: Mapping[str, Any]) -> Callable[[Campaign], bool] | None:
    """Campaigns whose members equal what the list's ``filters`` parameters ask (any of several values)."""
    asked = [
        (member, {str(value) for value in (raw if isinstance(raw, list) else [raw])})
        for parameter, member in listing.filters
        if (raw := params.get(parameter)) is not None
    ]
    if not asked:
        return None
    return lambda campaign: all(_text_of(campaign.get(member)) in values for member, values in asked)


def _text_of(value: Any) -> str:
    """A member as a query spells it (``true``, ``12``, ``email``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _place(listing: Listing) -> str:
    return "body" if listing.in_body else "query"


CREATION = ""
"""The order member meaning creation order (what the store keeps), for a direction alone."""


def _direction(listing: Listing, request: ValidRequest) -> bool | None:
    """The direction the request asks for (True: descending), None when it names none; a word
    that is no direction is a 400 naming the words there are."""
    value = _list_params(listing, request).get(listing.sort_dir) if listing.sort_dir else None
    if value is None or value == "":
        return None
    descending = listing.direction(value)
    if descending is None:
        words = " or ".join(listing.direction_words())
        raise InvalidRequest(
            f"{listing.sort_dir} must be {words}, not {str(value)!r}.",
            extra={"errors": [{"in": _place(listing), "name": listing.sort_dir, "detail": f"one of {words}"}]},
        )
    return descending


def _order(listing: Listing, request: ValidRequest) -> tuple[str, bool] | None:
    """(member, descending) to order by; CREATION for creation order turned around; None for
    creation order."""
    params = _list_params(listing, request)
    value = params.get(listing.sort) if listing.sort else None
    descending = _direction(listing, request)
    if not value:
        order = listing.order  # the contract's default order (x-operation.order), else creation order
        if descending is None:
            return order
        return (order[0] if order else CREATION, descending)
    text = str(value)
    member, minus = (text[1:], True) if text.startswith("-") else (text, False)
    return member, minus if descending is None else descending


def _page(
    service: CampaignService,
    statuses: frozenset[str] | None,
    window: tuple[int, int],
    match: Callable[[Campaign], bool] | None,
    order: tuple[str, bool] | None,
) -> tuple[list[Campaign], int]:
    offset, limit = window
    if order is None or order[0] != CREATION:
        return service.page(statuses, offset, limit, match, order)
    everything, total = service.page(statuses, 0, 1 << 62, match)
    ordered = everything[::-1] if order[1] else everything
    return ordered[offset : offset + limit], total


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
    if listing.cursor is not None and params.get(listing.cursor) is not None:
        try:
            offset = cursor_offset(str(params[listing.cursor]))
        except ValueError as exc:
            raise InvalidRequest(
                str(exc), extra={"errors": [{"in": _place(listing), "name": listing.cursor}]}
            ) from None
    return int(offset or 0), int(limit or listing.default_size)


def _both(
    first: Callable[[Campaign], bool] | None, second: Callable[[Campaign], bool] | None
) -> Callable[[Campaign], bool] | None:
    if first is None or second is None:
        return first or second
    return lambda campaign: first(campaign) and second(campaign)


def list_handler(contract: Contract, operation: Operation, tenancy: Tenancy | None) -> Handler:
    shaper = Shaper(operation)
    names = parameter_names(contract.document, operation)
    listing = listing_of(operation.extension, names, contract.lifecycle.status_field)

    def list_page(service: CampaignService, request: ValidRequest) -> Reply:
        raw = _list_params(listing, request).get(listing.status) if listing.status else None
        values = raw if isinstance(raw, list) else [raw]
        statuses = frozenset(listing.stored_status(value) for value in values) if raw else None
        offset, limit = _window(listing, request)
        match = _matcher(listing, request)
        if tenancy is not None:
            tenancy.check_workspace(request.query.get(tenancy.query) if tenancy.query else None, request.tenant)
            match = _both(tenancy.matcher(request.tenant), match)
        data, total = _page(service, statuses, (offset, limit), match, _order(listing, request))
        items = envelopes.shape_items(operation.item_envelope, data)
        return shaper.reply(_page_values(envelopes.ITEMS, items, total, offset, limit))

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
        envelopes.NEXT_CURSOR: cursor_token(offset + len(items)) if more else None,
    }


def events_handler(contract: Contract, operation: Operation, campaign_id: IdReader) -> Handler:
    """A campaign's history, paged like a list where the operation has paging parameters."""
    shaper = Shaper(operation)
    names = parameter_names(contract.document, operation)
    paging = listing_of(operation.extension, names, contract.lifecycle.status_field)

    def events(service: CampaignService, request: ValidRequest) -> Reply:
        offset, limit = _window(paging, request) if paging.limit or paging.page else (0, None)
        items, total = service.events(campaign_id(service, request), offset, limit)
        return shaper.reply(_page_values(envelopes.EVENTS, items, total, offset, limit))

    return events

"""Where a campaign sits in an answer: ``x-operation.envelope``, read by server and kit alike.

An envelope is a JSON template. A string that is exactly one of the placeholders below is
replaced by its value, ``$campaign.NAME`` by that one member of the campaign; everything
else is written as it stands. So a vendor that answers
``{"success": true, "data": {...}}`` or ``{"total": 1, "items": [{...}]}`` is data, not code,
and the kit finds the campaign in the same template the server fills.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.pointers import escape, read_pointer

CAMPAIGN = "$campaign"
ITEMS = "$items"
EVENTS = "$events"
STATUS = "$status"
TOTAL = "$total"
LIMIT = "$limit"
OFFSET = "$offset"
HAS_MORE = "$has_more"
PAGINATION = "$pagination"
NEXT_CURSOR = "$next_cursor"
"""The opaque token of the next page (``paging: cursor``), null on the last."""
PLACEHOLDERS = frozenset({CAMPAIGN, ITEMS, EVENTS, STATUS, TOTAL, LIMIT, OFFSET, HAS_MORE, PAGINATION, NEXT_CURSOR})

DEFAULTS: Mapping[str, Any] = {
    "create": CAMPAIGN,
    "get": CAMPAIGN,
    "update": CAMPAIGN,
    "transition": CAMPAIGN,
    "copy": CAMPAIGN,
    "list": {"data": ITEMS, "pagination": PAGINATION},
    "events": {"data": EVENTS},
}
"""The canonical API's layout, used where an operation gives no envelope."""

MEMBER_OF_CAMPAIGN = CAMPAIGN + "."
"""``$campaign.id``: one member of the campaign (Brevo's create answers ``{"id": 12}``)."""

CAMPAIGN_KINDS = frozenset({"create", "get", "update", "transition", "copy"})
"""Kinds whose answer is about one campaign (the others answer a page, a history, a status)."""

SUBJECT = {"list": ITEMS, "events": EVENTS, "status": STATUS}
"""Which placeholder holds what an operation of each kind is about (default: the campaign)."""


def envelope_of(kind: str, extension: Mapping[str, Any]) -> Any:
    """The operation's template; ContractError for a placeholder that does not exist."""
    template = extension.get("envelope", DEFAULTS.get(kind))
    unknown = sorted(name for name in _strings(template) - PLACEHOLDERS if not _member_placeholder(name))
    if unknown:
        raise ContractError(
            f"x-operation.envelope: unknown placeholder(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(PLACEHOLDERS))} and $campaign.MEMBER"
        )
    return template


def _member_placeholder(text: str) -> bool:
    return text.startswith(MEMBER_OF_CAMPAIGN) and len(text) > len(MEMBER_OF_CAMPAIGN)


def members_named(template: Any) -> dict[str, str]:
    """The campaign members the template names one by one, by the JSON pointer they sit at
    (``{"id": "$campaign.id"}`` -> ``{"/id": "id"}``)."""
    found: dict[str, str] = {}
    for text in _strings(template):
        if _member_placeholder(text):
            pointer = pointer_to(template, text)
            if pointer is not None:
                found[pointer] = text[len(MEMBER_OF_CAMPAIGN) :]
    return found


def _strings(template: Any) -> set[str]:
    if isinstance(template, str):
        return {template} if template.startswith("$") else set()
    if isinstance(template, Mapping):
        return {name for value in template.values() for name in _strings(value)}
    if isinstance(template, list):
        return {name for value in template for name in _strings(value)}
    return set()


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """The template with each placeholder replaced by ``values[placeholder]``."""
    if isinstance(template, str) and template in PLACEHOLDERS:
        return values.get(template)
    if isinstance(template, str) and _member_placeholder(template):
        found: Any = values.get(CAMPAIGN)
        for name in template[len(MEMBER_OF_CAMPAIGN) :].split("."):  # $campaign.settings.daily_limit
            found = found.get(name) if isinstance(found, Mapping) else None
        return found
    if isinstance(template, Mapping):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


def pointer_to(template: Any, placeholder: str) -> str | None:
    """The JSON pointer at which ``placeholder`` sits in ``template`` (``""``: the whole body)."""
    if template == placeholder:
        return ""
    children: list[tuple[str, Any]] = []
    if isinstance(template, Mapping):
        children = [(str(key), value) for key, value in template.items()]
    elif isinstance(template, list):
        children = [(str(index), value) for index, value in enumerate(template)]
    for token, child in children:
        found = pointer_to(child, placeholder)
        if found is not None:
            return "/" + escape(token) + found
    return None


def request_envelope_of(extension: Mapping[str, Any]) -> Any:
    """Where a request body carries the campaign's members (``x-operation.request_envelope``:
    JSON:API's ``{data: {type: campaign, attributes: $campaign}}``); None: the body itself."""
    template = extension.get("request_envelope")
    if template is None:
        return None
    placeholders = _strings(template)
    if CAMPAIGN not in placeholders or placeholders - {CAMPAIGN, PATH_ID} or pointer_to(template, CAMPAIGN) == "":
        raise ContractError(
            "x-operation.request_envelope: a JSON template holding $campaign once, where the request "
            f"carries the campaign's members, and $id where it names the campaign; got {template!r}"
        )
    return template


def unwrap(template: Any, body: Any) -> Any:
    """The campaign's members a request body carries, by its request envelope (None: the body)."""
    if template is None:
        return body
    pointer = pointer_to(template, CAMPAIGN)
    return read_pointer(body, pointer) if pointer is not None else body


PATH_ID = "$id"
"""In a request envelope: where the request names the campaign it is about (JSON:API's
``data.id``, equal to the path's id); the server reads the id from the path."""


def wrap(template: Any, members: Any, campaign_id: Any = None) -> Any:
    """A request body carrying ``members`` where the request envelope says (None: as they are),
    and ``campaign_id`` at its ``$id``."""
    if template is None:
        return members
    return _with_id(fill(template, {CAMPAIGN: members}), campaign_id)


def _with_id(node: Any, campaign_id: Any) -> Any:
    if node == PATH_ID:
        return campaign_id
    if isinstance(node, Mapping):
        return {key: _with_id(value, campaign_id) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_id(value, campaign_id) for value in node]
    return node


def item_envelope_of(extension: Mapping[str, Any]) -> Any:
    """How a list shapes each campaign of a page (``x-operation.item_envelope``: JSON:API's
    ``{type: campaign, id: $campaign.id, attributes: $campaign}``); None: as stored."""
    template = extension.get("item_envelope")
    if template is None:
        return None
    if not _strings(template) or any(name != CAMPAIGN and not _member_placeholder(name) for name in _strings(template)):
        raise ContractError(
            "x-operation.item_envelope: a JSON template of one campaign ($campaign, $campaign.MEMBER); "
            f"got {template!r}"
        )
    return template


def shape_items(template: Any, items: list[Any]) -> list[Any]:
    """Each campaign of a page in the list's item envelope (None: as they are)."""
    return items if template is None else [fill(template, {CAMPAIGN: item}) for item in items]


def item_members(template: Any, item: Any) -> Any:
    """The campaign an item of a page carries (its item envelope unwrapped), for the kit."""
    if template is None:
        return item
    pointer = pointer_to(template, CAMPAIGN)
    if pointer is not None:
        return read_pointer(item, pointer)
    named = members_named(template)
    return {member: read_pointer(item, where) for where, member in named.items()} or None

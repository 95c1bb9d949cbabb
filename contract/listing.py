"""How a list operation filters and pages, read from its ``x-operation``; server and kit share it.

Three paging styles exist among the vendors: ``offset`` (``limit`` and ``offset``
parameters, the canonical API's), ``page`` (one parameter ``page=N,M``: page N, 1-based, of
M items, Ocamba's) and ``keyset`` (``after`` an id, ``limit`` items, Altcraft's ``from_id``).
Parameter names default to the canonical ones where the operation has them; ``params_in:
body`` reads them from a JSON body instead of the query (RPC-style vendors).

Order and filter spellings, as vendors list: ``sort_dir_param`` names a direction parameter
beside ``sort_param`` (Mailchimp ``sort_field=create_time&sort_dir=DESC``), or alone, when it
turns the list's own order (``order``, else creation order) around (Brevo ``sort=desc``); its
words are ``asc``/``desc`` in any case, or the vendor's exact words in ``sort_dir_values: {asc:
ASC, desc: DESC}``. ``status_values: {inProcess: in_process}`` maps a status filter's value to
the stored state; other values are states as they are.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.operations import Operation, resolve

STYLES = ("offset", "page", "keyset", "cursor")
DEFAULT_PAGE_SIZE = 20
DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True)
class Listing:
    """The list operation's parameters, by role; None where it has none."""

    style: str
    status: str | None
    limit: str | None
    offset: str | None
    page: str | None
    search: str | None
    search_fields: tuple[str, ...]
    sort: str | None
    default_size: int
    after: str | None = None
    cursor: str | None = None
    """``paging: cursor``: the parameter that takes the opaque token of the next page (SendGrid's
    ``page_token``, Klaviyo's ``page[cursor]``), which the answer gives as ``$next_cursor``."""
    in_body: bool = False
    order: tuple[str, bool] | None = None
    """The order without a sort parameter (``x-operation.order``: a member, ``-`` before it for
    descending); None: creation order."""
    sort_dir: str | None = None
    """The direction parameter (``x-operation.sort_dir_param``); None: ``-field`` only."""
    sort_dir_values: Mapping[str, str] = field(default_factory=dict)
    """asc/desc -> the vendor's word (``sort_dir_values``); empty: asc/desc in any case."""
    status_values: Mapping[str, str] = field(default_factory=dict)
    filters: tuple[tuple[str, str], ...] = ()
    """``x-operation.filters: {type: type}``: a parameter that lists only campaigns whose member
    equals its value (Brevo's ``type``, a channel); several values: any of them."""
    """A status filter's value -> the stored state (``status_values``); others are states."""

    def direction(self, value: Any) -> bool | None:
        """True for descending, False for ascending, None for a word that is neither."""
        text = str(value)
        for direction in DIRECTIONS:
            word = self.sort_dir_values.get(direction)
            if (text == word) if word is not None else (text.lower() == direction):
                return direction == "desc"
        return None

    def direction_words(self) -> tuple[str, str]:
        """The words for (ascending, descending) a client sends."""
        return self.sort_dir_values.get("asc", "asc"), self.sort_dir_values.get("desc", "desc")

    def stored_status(self, value: Any) -> str:
        """The stored state a status filter value means."""
        return self.status_values.get(str(value), str(value))

    def filter_value(self, state: str) -> str:
        """How a client asks for ``state`` in the status filter (the first spelling mapped to
        it, else the state itself)."""
        return next((word for word, stored in self.status_values.items() if stored == state), state)


def _named(extension: Mapping[str, Any], key: str, query: set[str], default: str) -> str | None:
    named = extension.get(key)
    if named is not None:
        return str(named)
    return default if default in query else None


def parameter_names(document: Mapping[str, Any], operation: Operation) -> set[str]:
    """What a list operation can be told: its query parameters, or (``params_in: body``) the
    members of its JSON body."""
    if operation.extension.get("params_in") != "body":
        return {parameter.name for parameter in operation.parameters_in("query")}
    names: set[str] = set()
    for pointer in operation.body_schemas.values():
        schema, _ = resolve(document, {"$ref": f"#{pointer}"}, "")
        names.update((schema.get("properties") or {}) if isinstance(schema, Mapping) else ())
    return names


def listing_of(extension: Mapping[str, Any], query_names: set[str], status_field: str) -> Listing:
    """Roles of a list operation's query parameters (``x-operation`` names them, else defaults)."""
    style = str(extension.get("paging", "offset"))
    if style not in STYLES:
        raise ContractError(f"x-operation.paging: {style!r} is not one of {', '.join(STYLES)}")
    fields = extension.get("search_fields") or ["name"]
    sort_dir = extension.get("sort_dir_param")
    sort_default = "sort" if sort_dir != "sort" else ""  # Brevo's ``sort`` is the direction
    return Listing(
        style=style,
        status=_named(extension, "status_param", query_names, status_field),
        limit=_named(extension, "limit_param", query_names, "limit") if style != "page" else None,
        offset=_named(extension, "offset_param", query_names, "offset") if style == "offset" else None,
        page=_named(extension, "page_param", query_names, "page") if style == "page" else None,
        search=_named(extension, "search_param", query_names, "q"),
        search_fields=tuple(map(str, fields)),
        sort=_named(extension, "sort_param", query_names, sort_default),
        default_size=int(extension.get("default_size", DEFAULT_PAGE_SIZE)),
        after=_named(extension, "after_param", query_names, "from_id") if style == "keyset" else None,
        cursor=_named(extension, "cursor_param", query_names, "cursor") if style == "cursor" else None,
        in_body=extension.get("params_in") == "body",
        order=parse_order(extension.get("order")),
        sort_dir=None if sort_dir is None else str(sort_dir),
        sort_dir_values=parse_words(extension.get("sort_dir_values"), "sort_dir_values"),
        status_values=parse_words(extension.get("status_values"), "status_values"),
        filters=tuple(parse_words(extension.get("filters"), "filters").items()),
    )


def parse_words(value: Any, key: str) -> dict[str, str]:
    """``sort_dir_values`` / ``status_values``: a mapping of words to words; ContractError
    otherwise (``sort_dir_values`` also names exactly asc and desc, with different words)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(word, str) and isinstance(meant, str) for word, meant in value.items()
    ):
        raise ContractError(f"x-operation.{key}: expected a mapping of words to words, got {value!r}")
    words = {str(word): str(meant) for word, meant in value.items()}
    if key == "sort_dir_values" and (set(words) != set(DIRECTIONS) or words["asc"] == words["desc"]):
        raise ContractError(
            f"x-operation.sort_dir_values: name both directions, each with its own word "
            f"(e.g. {{asc: ASC, desc: DESC}}), got {value!r}"
        )
    return words


_ORDER = re.compile(r"-?[A-Za-z_][A-Za-z0-9_]*")


def parse_order(value: Any) -> tuple[str, bool] | None:
    """``x-operation.order`` as (member, descending); ContractError on a malformed value."""
    if value is None:
        return None
    if not isinstance(value, str) or not _ORDER.fullmatch(value):
        raise ContractError(
            f"x-operation.order: expected a campaign member, '-' before it for newest first "
            f"(e.g. created_at or -created_at), got {value!r}"
        )
    return (value[1:], True) if value.startswith("-") else (value, False)


def parse_page(value: str, default_size: int) -> tuple[int, int]:
    """``"N,M"`` (or ``"N"``) as (offset, limit); ValueError says what is wrong."""
    number_text, _, size_text = value.partition(",")
    try:
        number = int(number_text)
        size = int(size_text) if size_text else default_size
    except ValueError:
        raise ValueError(f"page {value!r}: expected N,M (page number, page size), e.g. 1,20") from None
    if number < 1 or not 1 <= size <= 100:
        raise ValueError(f"page {value!r}: the page number starts at 1 and the size lies in 1..100")
    return (number - 1) * size, size


def page_value(offset: int, limit: int) -> str:
    """The ``page`` parameter for the page that starts at ``offset`` (a multiple of ``limit``)."""
    return f"{offset // limit + 1},{limit}"


CURSOR_PREFIX = "cm1."


def cursor_token(offset: int) -> str:
    """The opaque token of the page that starts at ``offset`` (clients must not read it)."""
    return CURSOR_PREFIX + base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def cursor_offset(token: str) -> int:
    """The offset a token of ``cursor_token`` names; ValueError for anything else."""
    refused = ValueError(f"{token!r} is not a cursor this list gave; send the token of the answer's next page")
    if not token.startswith(CURSOR_PREFIX):
        raise refused
    raw = token[len(CURSOR_PREFIX) :]
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise refused from None
    name, _, number = text.partition(":")
    if name != "offset" or not number.isascii() or not number.isdigit() or len(number) > 12:
        raise refused
    if cursor_token(int(number)) != token:
        raise refused  # only the one spelling the list writes (no 03, no padding, no other digits)
    return int(number)

"""How a list operation filters and pages, read from its ``x-operation``; server and kit share it.

Two paging styles exist among the vendors: ``offset`` (``limit`` and ``offset`` parameters,
the canonical API's) and ``page`` (one parameter ``page=N,M``: page N, 1-based, of M items,
Ocamba's). Parameter names default to the canonical ones where the operation has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contract.errors import ContractError

STYLES = ("offset", "page")
DEFAULT_PAGE_SIZE = 20


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


def _named(extension: Mapping[str, Any], key: str, query: set[str], default: str) -> str | None:
    named = extension.get(key)
    if named is not None:
        return str(named)
    return default if default in query else None


def listing_of(extension: Mapping[str, Any], query_names: set[str], status_field: str) -> Listing:
    """Roles of a list operation's query parameters (``x-operation`` names them, else defaults)."""
    style = str(extension.get("paging", "offset"))
    if style not in STYLES:
        raise ContractError(f"x-operation.paging: {style!r} is not one of {', '.join(STYLES)}")
    fields = extension.get("search_fields") or ["name"]
    return Listing(
        style=style,
        status=_named(extension, "status_param", query_names, status_field),
        limit=_named(extension, "limit_param", query_names, "limit") if style == "offset" else None,
        offset=_named(extension, "offset_param", query_names, "offset") if style == "offset" else None,
        page=_named(extension, "page_param", query_names, "page") if style == "page" else None,
        search=_named(extension, "search_param", query_names, "q"),
        search_fields=tuple(map(str, fields)),
        sort=_named(extension, "sort_param", query_names, "sort"),
        default_size=int(extension.get("default_size", DEFAULT_PAGE_SIZE)),
    )


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

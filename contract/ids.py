"""The shape of a contract's campaign ids (``x-ids``), checked once for server, lint and kit.

``{format: integer}`` (1, 2, 3, shown as numbers), ``{format: uuid}``, or random hex
``length`` digits long (default 20; Mailchimp's ids are 10) after a ``prefix``: ``cmp_``
when ``x-ids`` names no format (the canonical ids), none with ``format: hex``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract.errors import ContractError

FORMATS = ("hex", "integer", "uuid")
MAX_HEX_LENGTH = 64


@dataclass(frozen=True)
class IdStyle:
    format: str
    prefix: str
    length: int


def id_style(document: Mapping[str, Any]) -> IdStyle:
    """The contract's id style; ContractError says what to write instead."""
    raw = document.get("x-ids") or {}
    if not isinstance(raw, Mapping):
        raise ContractError(f"x-ids: expected a mapping such as {{format: integer}}, got {raw!r}")
    unknown = sorted(set(raw) - {"format", "prefix", "length"})
    if unknown:
        raise ContractError(f"x-ids: unknown key(s) {', '.join(unknown)}; known: format, prefix, length")
    style = raw.get("format", "hex")
    if style not in FORMATS:
        raise ContractError(f"x-ids.format: expected one of {', '.join(FORMATS)}, got {style!r}")
    prefix = raw.get("prefix", "" if "format" in raw else "cmp_")
    if not isinstance(prefix, str) or (prefix and style != "hex"):
        raise ContractError(f"x-ids.prefix: a text before random hex ids only (format: hex), got {prefix!r}")
    length = raw.get("length", 20)
    if style != "hex" and "length" in raw:
        raise ContractError("x-ids.length: only hex ids have a length")
    if not isinstance(length, int) or isinstance(length, bool) or not 8 <= length <= MAX_HEX_LENGTH:
        raise ContractError(f"x-ids.length: expected a whole number from 8 to {MAX_HEX_LENGTH}, got {length!r}")
    return IdStyle(str(style), prefix, length)

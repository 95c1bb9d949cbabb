"""Which campaign members the server stamps with the time, read from the contract (``x-stamp``).

Vendors name their timestamps their own way (``create_time``, ``createdAt``/``modifiedAt``,
``created_at``/``updated_at``). A member marked ``x-stamp: create`` is set once when the
campaign is made; ``x-stamp: write`` is moved to the time of every write (an update, an
action, a clock-driven move). The server stamps exactly these, and the kit judges them; a
contract that marks none keeps the canonical pair, ``created_at`` and ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaign_mock.contract import envelopes
from campaign_mock.contract.operations import Contract, resolve
from campaign_mock.contract.pointers import escape

KINDS = ("create", "write")
CANONICAL = {"created_at": "create", "updated_at": "write"}


def _properties(document: Mapping[str, Any], node: Any) -> dict[str, Any]:
    schema, _ = resolve(document, node, "")
    if not isinstance(schema, Mapping):
        return {}
    found = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        found.update(_properties(document, part))
    return found


def campaign_members(contract: Contract) -> Mapping[str, Any]:
    """The members of the campaign a read answers, as its schema declares them (unresolved,
    so a member's own ``x-`` keywords beside its ``$ref`` are kept)."""
    reader = contract.one_of_kind("get")
    if reader is None:
        return {}
    response = reader.responses.get(str(reader.success_status()))
    if response is None or not response.content_types:
        return {}
    document = contract.document
    node: Any = {"$ref": f"#{response.pointer}/content/{escape(response.content_types[0])}/schema"}
    inside = envelopes.pointer_to(reader.envelope, envelopes.SUBJECT.get(reader.kind, envelopes.CAMPAIGN)) or ""
    for token in [part for part in inside.split("/") if part]:
        schema, _ = resolve(document, node, "")
        if token.isdigit() and isinstance(schema, Mapping) and "items" in schema:  # into an array's items
            node = schema["items"]
        else:
            node = _properties(document, node).get(token.replace("~1", "/").replace("~0", "~"), {})
    return _properties(document, node)


def declared_stamps(contract: Contract) -> dict[str, str]:
    """Member -> ``create`` or ``write``, as the contract marks them (empty when it marks none)."""
    return {
        name: str(member["x-stamp"])
        for name, member in campaign_members(contract).items()
        if isinstance(member, Mapping) and member.get("x-stamp") in KINDS
    }


@dataclass(frozen=True)
class Stamps:
    """The members the server stamps: at creation only, and on every write."""

    created: tuple[str, ...]
    written: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.created, *self.written)

    @classmethod
    def of(cls, contract: Contract) -> Stamps:
        marked = declared_stamps(contract) or CANONICAL
        return cls(
            tuple(name for name, kind in marked.items() if kind == "create"),
            tuple(name for name, kind in marked.items() if kind == "write"),
        )


CANONICAL_STAMPS = Stamps(("created_at",), ("updated_at",))

"""Finding the schema of a part of an answer: the campaign inside an envelope, an event inside
a page of events. Shared by the server (checking seeded and stored records) and the kit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from campaign_mock.contract import envelopes
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.operations import Contract, Operation, resolve
from campaign_mock.contract.pointers import escape

JSON = "application/json"


def success_schema_pointer(operation: Operation) -> str | None:
    """The JSON pointer of the schema of the operation's JSON success answer, if it has one."""
    response = operation.responses.get(str(operation.success_status()))
    if response is None or JSON not in response.content_types:
        return None
    return f"{response.pointer}/content/{escape(JSON)}/schema"


def subschema_pointer(document: Mapping[str, Any], pointer: str, instance_pointer: str) -> str | None:
    """The pointer of the schema that describes ``instance_pointer`` of a value ``pointer``'s
    schema describes (through ``properties`` and ``items``, following ``$ref``s); None where
    the schema does not say."""
    for token in [part for part in instance_pointer.split("/") if part]:
        try:
            node, pointer = resolve(document, {"$ref": f"#{pointer}"}, pointer)
        except ContractError:
            return None
        if not isinstance(node, Mapping):
            return None
        if isinstance(node.get("properties"), Mapping) and token in node["properties"]:
            pointer = f"{pointer}/properties/{escape(token)}"
        elif token.isdecimal() and isinstance(node.get("items"), Mapping):
            pointer = f"{pointer}/items"
        else:
            return None
    return pointer


def campaign_schema_pointer(contract: Contract) -> str | None:
    """The schema of one campaign, as the contract's get operation answers it (inside its envelope)."""
    reader = contract.one_of_kind("get")
    answer = success_schema_pointer(reader) if reader is not None else None
    inside = envelopes.pointer_to(reader.envelope, envelopes.CAMPAIGN) if reader is not None else None
    return None if answer is None or inside is None else subschema_pointer(contract.document, answer, inside)


def event_schema_pointer(contract: Contract) -> str | None:
    """The schema of one event, as the contract's events operation answers them."""
    lister = contract.one_of_kind("events")
    answer = success_schema_pointer(lister) if lister is not None else None
    inside = envelopes.pointer_to(lister.envelope, envelopes.EVENTS) if lister is not None else None
    if answer is None or inside is None:
        return None
    return subschema_pointer(contract.document, answer, f"{inside}/0")

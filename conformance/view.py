"""What the kit reads from a contract to talk to an implementation: no names hard-coded.

Where a campaign sits in a response, which field is its id, what a valid create body
looks like, which list parameters filter and page: all from the spec (``x-operation``
hints, the documented examples and schemas), with the canonical API's layout as default.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from campaign_mock.conformance.bodies import BodyChooser
from campaign_mock.contract import envelopes
from campaign_mock.contract.listing import Listing, listing_of, parameter_names
from campaign_mock.contract.operations import Contract, Operation, resolve
from campaign_mock.contract.pointers import escape, read_pointer
from campaign_mock.contract.stamps import campaign_members, declared_stamps
from campaign_mock.contract.tenancy import tenancy_spec
from campaign_mock.contract.timefmt import format_timestamp

SPEC_URI = "urn:conformance:spec"


def id_schema(contract: Contract, operation: Operation) -> Mapping[str, Any]:
    """The schema of the operation's campaign id: its path parameter's, or its body member's
    (a member's name, or a JSON pointer such as JSON:API's ``/data/id``)."""
    in_body = operation.extension.get("id_from_body")
    if not in_body:
        parameter = next(iter(operation.parameters_in("path")), None)
        return parameter.schema if parameter is not None else {}
    where = str(in_body) if str(in_body).startswith("/") else "/" + escape(str(in_body))
    for pointer in operation.body_schemas.values():
        found = schema_at(contract.document, {"$ref": f"#{pointer}"}, where)
        if found is not None:
            return found
    return {}


def schema_at(document: Mapping[str, Any], schema: Any, pointer: str) -> Mapping[str, Any] | None:
    """The schema of the member at ``pointer`` inside instances of ``schema`` (through
    ``properties`` and ``$ref``s); None where the schema does not say."""
    node, _ = resolve(document, schema, "")
    for token in [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]:
        properties = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(properties, Mapping) or token not in properties:
            return None
        node, _ = resolve(document, properties[token], "")
    return node if isinstance(node, Mapping) else None


def _is_time_format(schema: Any, document: Mapping[str, Any]) -> bool:
    schema, _ = resolve(document, schema, "")
    return isinstance(schema, Mapping) and schema.get("format") == "date-time"


class ContractView:
    def __init__(self, contract: Contract, tenant: str | None = None) -> None:
        self.contract = contract
        self.lifecycle = contract.lifecycle
        self.tenancy = tenancy_spec(contract.document)
        self.bodies = BodyChooser(contract)
        self.tenant = tenant or self._example_tenant()
        self._registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, DRAFT202012.create_resource(contract.document)
        )
        self._validators: dict[str, Draft202012Validator] = {}
        self._templates = {
            op.operation_id: re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(op.path)))
            for op in contract.operations
        }

    def _example_tenant(self) -> str | None:
        """The tenant the create example names, the kit's default under ``x-tenancy``."""
        creator = self.one("create")
        example = self.request_example(creator) if creator is not None and self.tenancy else None
        value = (
            example[1].get(self.tenancy.field) if example and self.tenancy and isinstance(example[1], dict) else None
        )
        return str(value) if value is not None else None

    # -- operations --------------------------------------------------------------------
    def operation_for(self, method: str, path: str) -> Operation | None:
        """The operation a request is for, by its method and URL path (base path included or not)."""
        base = self.contract.base_path
        local = path[len(base) :] if base and path.startswith(base) else path
        for operation in self.contract.operations:
            if operation.method == method.upper() and self._templates[operation.operation_id].fullmatch(local):
                return operation
        return None

    def one(self, kind: str) -> Operation | None:
        return self.contract.one_of_kind(kind)

    def transition(self, action: str) -> Operation | None:
        return self.contract.transition_for(action)

    def id_parameter(self, operation: Operation) -> str | None:
        """Where the operation takes a campaign id: a path parameter, or a body member
        (``x-operation.id_from_body``), which ``Target.send`` moves into the body."""
        in_body = operation.extension.get("id_from_body")
        if in_body:
            return str(in_body)
        names = [parameter.name for parameter in operation.parameters_in("path")]
        return names[0] if names else None

    def unknown_id(self, operation: Operation) -> str:
        """An id no campaign has that still fits the id parameter's schema (a UUID, a number, text)."""
        schema = id_schema(self.contract, operation)
        if schema.get("format") == "uuid":
            return str(uuid.uuid4())
        if schema.get("type") == "integer":
            return str(900_000_000 + secrets.randbelow(99_999_999))
        return f"kit-missing-{secrets.token_hex(6)}"

    def id_field(self) -> str:
        creator = self.one("create")
        return str((creator.extension.get("id_field") if creator else None) or "id")

    def campaign_pointer(self, operation: Operation) -> str | None:
        """Where the operation's envelope puts its subject (campaign, items, events, status)."""
        placeholder = envelopes.SUBJECT.get(operation.kind, envelopes.CAMPAIGN)
        return envelopes.pointer_to(operation.envelope, placeholder)

    def answers_campaign(self, operation: Operation) -> bool:
        """Whether a success of ``operation`` carries the campaign (else read it back)."""
        response = operation.responses.get(str(operation.success_status()))
        return bool(response and response.content_types) and self.campaign_pointer(operation) is not None

    def campaign_in(self, operation: Operation, body: Any) -> Any:
        """The campaign an answer carries; where the envelope names members one by one
        (``{id: $campaign.id}``), only those members (read the campaign for the rest)."""
        pointer = self.campaign_pointer(operation)
        if pointer is not None:
            found = read_pointer(body, pointer)
            if operation.item_envelope is not None and isinstance(found, list):
                return [envelopes.item_members(operation.item_envelope, item) for item in found]
            return found
        named = envelopes.members_named(operation.envelope)
        if not named or operation.kind not in envelopes.CAMPAIGN_KINDS:
            return None
        found = {member: read_pointer(body, where) for where, member in named.items()}
        return {member: value for member, value in found.items() if value is not None} or None

    def campaign_members(self) -> Mapping[str, Any]:
        """The members of the campaign a read answers, as its schema declares them."""
        return campaign_members(self.contract)

    def stamps(self) -> dict[str, str]:
        """Campaign members the server stamps (``x-stamp``): ``create`` (set once, never
        changed) or ``write`` (moved forward by every write)."""
        return declared_stamps(self.contract)

    def status_of(self, operation: Operation, body: Any) -> Any:
        campaign = self.campaign_in(operation, body)
        return campaign.get(self.lifecycle.status_field) if isinstance(campaign, Mapping) else None

    # -- documentation -----------------------------------------------------------------
    def documented(self, operation: Operation, status: int) -> bool:
        return str(status) in operation.responses or f"{str(status)[0]}XX" in operation.responses

    def media_types(self, operation: Operation, status: int) -> tuple[str, ...]:
        response = operation.responses.get(str(status)) or operation.responses.get(f"{str(status)[0]}XX")
        return response.content_types if response else ()

    def response_validator(self, operation: Operation, status: int, media_type: str) -> Draft202012Validator | None:
        response = operation.responses.get(str(status)) or operation.responses.get(f"{str(status)[0]}XX")
        if response is None or media_type not in response.content_types:
            return None
        pointer = f"{response.pointer}/content/{escape(media_type)}/schema"
        if pointer not in self._validators:
            self._validators[pointer] = Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self._registry)
        return self._validators[pointer]

    def body_problems(self, operation: Operation, status: int, media_type: str, body: Any) -> list[str]:
        validator = self.response_validator(operation, status, media_type)
        if validator is None:
            return []
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '/'}: {error.message}"
            for error in list(validator.iter_errors(body))[:5]
        ]

    # -- requests ----------------------------------------------------------------------
    def request_example(self, operation: Operation) -> tuple[str, Any] | None:
        """(media type, members) of a documented request body, JSON first: the campaign's
        members, its request envelope taken off (``Target.send`` puts it back)."""
        found = self.bodies.example(operation)
        return None if found is None else (found[0], self._members(operation, found[1]))

    def request_body(self, operation: Operation, purpose: str) -> tuple[str, Any] | None:
        """(media type, members) to send: the spec's example, else one made from the schema
        (``purpose``: create, update or action; the report names the generated ones)."""
        skip = frozenset(
            {*self.time_fields(), self.lifecycle.status_field, *([self.tenancy.field] if self.tenancy else [])}
        )
        chosen = self.bodies.choose(operation, purpose, skip)
        return None if chosen is None else (chosen.media_type, self._members(operation, chosen.body))

    @staticmethod
    def _members(operation: Operation, body: Any) -> Any:
        if operation.request_envelope is None:
            return body
        members = envelopes.unwrap(operation.request_envelope, body)
        return dict(members) if isinstance(members, Mapping) else {}

    def future_member(self, operation: Operation, name: str, moment: datetime) -> str:
        """``moment`` written as the operation's body member ``name`` wants it: RFC 3339, or a
        vendor's ``YYYY-MM-DD HH:MM:SS`` where only that fits its schema."""
        candidates = [format_timestamp(moment), moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")]
        for pointer in operation.body_schemas.values():
            validator = Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self._registry)
            for candidate in candidates:
                if validator.is_valid(envelopes.wrap(operation.request_envelope, {name: candidate})):
                    return candidate
        return candidates[0]

    def time_fields(self) -> frozenset[str]:
        return self.lifecycle.time_fields()

    def create_body(self, times: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]] | None:
        """A valid create body without lifecycle times, plus ``times`` when given."""
        creator = self.one("create")
        if creator is None:
            return None
        found = self.request_body(creator, "create")
        if found is None or not isinstance(found[1], dict):
            return None
        media_type, body = found
        for name in self.time_fields():
            body.pop(name, None)
        if self.tenancy is not None and self.tenant is not None:
            body[self.tenancy.field] = self.tenant
        body.update(times or {})
        return media_type, body

    def accepts_on_create(self, field: str) -> bool:
        """Whether the create body takes ``field`` as a time (a lifecycle time the kit may set)."""
        return self.create_takes(field, time_only=True)

    def create_takes(self, field: str, time_only: bool = False) -> bool:
        """Whether the create body has a member ``field`` (of a date-time format, with ``time_only``)."""
        creator = self.one("create")
        if creator is None:
            return False
        inside = envelopes.pointer_to(creator.request_envelope, envelopes.CAMPAIGN) or ""
        for pointer in creator.body_schemas.values():
            schema = schema_at(self.contract.document, {"$ref": f"#{pointer}"}, inside) or {}
            properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
            if field in properties and (not time_only or _is_time_format(properties[field], self.contract.document)):
                return True
        return False

    def update_body(self) -> tuple[str, Any] | None:
        updater = self.one("update")
        return self.request_body(updater, "update") if updater else None

    # -- listing -----------------------------------------------------------------------
    def listing(self) -> Listing | None:
        """The list operation's parameters by role (paging style, filter, limit/offset or page)."""
        lister = self.one("list")
        if lister is None:
            return None
        return listing_of(
            lister.extension, parameter_names(self.contract.document, lister), self.lifecycle.status_field
        )

    def _list_pointer(self, placeholder: str, member: str) -> str | None:
        lister = self.one("list")
        if lister is None:
            return None
        direct = envelopes.pointer_to(lister.envelope, placeholder)
        if direct is not None:
            return direct
        pagination = envelopes.pointer_to(lister.envelope, envelopes.PAGINATION)
        return None if pagination is None else f"{pagination}/{member}"

    def total_pointer(self) -> str | None:
        return self._list_pointer(envelopes.TOTAL, "total")

    def has_more_pointer(self) -> str | None:
        return self._list_pointer(envelopes.HAS_MORE, "has_more")

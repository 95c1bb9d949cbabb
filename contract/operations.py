"""Operations of a contract, with what each one does (``x-operation``) and its pieces.

``$ref`` objects are followed here once, and every schema is kept as a JSON pointer into
the document, so validators can be compiled against the document as one resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from campaign_mock.contract.envelopes import envelope_of, item_envelope_of, request_envelope_of, unwrap
from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.ids import id_style
from campaign_mock.contract.lifecycle import Lifecycle, parse_lifecycle
from campaign_mock.contract.pointers import MISSING, escape, pointer_of, step
from campaign_mock.contract.specs import SpecSource, parse_document
from campaign_mock.contract.tenancy import demo_keys, tenancy_spec

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
KINDS = frozenset({"create", "list", "get", "status", "update", "delete", "transition", "copy", "events"})


def resolve(document: Mapping[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """Follow local ``$ref`` chains; answer the target and its pointer."""
    seen = set()
    while isinstance(node, Mapping) and "$ref" in node:
        reference = node["$ref"]
        if not isinstance(reference, str) or not reference.startswith("#/"):
            raise ContractError(f"{pointer}: only local references are supported, got {reference!r}")
        if reference in seen:
            raise ContractError(f"{pointer}: circular reference {reference}")
        seen.add(reference)
        node = document
        for raw in reference[2:].split("/"):
            node = step(node, raw)
            if node is MISSING:
                raise ContractError(f"{pointer}: unresolvable reference {reference}")
        pointer = reference[1:]
    return node, pointer


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema_pointer: str
    schema: Mapping[str, Any]
    explode: bool = True


@dataclass(frozen=True)
class Response:
    status: str
    content_types: tuple[str, ...]
    headers: tuple[str, ...]
    pointer: str


@dataclass(frozen=True)
class Operation:
    """One method on one path, and what the mock does for it."""

    operation_id: str
    method: str
    path: str
    kind: str
    action: str | None
    parameters: tuple[Parameter, ...]
    body_required: bool
    body_schemas: Mapping[str, str]
    responses: Mapping[str, Response]
    security: tuple[Mapping[str, list[str]], ...]
    extension: Mapping[str, Any] = field(default_factory=dict)
    extensions: Mapping[str, Any] = field(default_factory=dict)
    envelope: Any = None
    actions: tuple[str, ...] = ()
    action_field: str | None = None
    request_envelope: Any = None
    """Where the request body carries the campaign's members (None: the body itself)."""
    item_envelope: Any = None
    """How a list shapes each campaign of a page (None: as stored)."""

    def serves(self, action: str) -> bool:
        """Whether this transition operation applies ``action``."""
        return action in self.actions

    def action_body(self, action: str) -> dict[str, Any] | None:
        """The body member that names ``action``, for an operation that takes it from the body."""
        return {self.action_field: action} if self.action_field else None

    def members_in(self, body: Any) -> Mapping[str, Any]:
        """The campaign's members a request body carries (its request envelope unwrapped)."""
        found = unwrap(self.request_envelope, body)
        return found if isinstance(found, Mapping) else {}

    def parameters_in(self, location: str) -> list[Parameter]:
        return [parameter for parameter in self.parameters if parameter.location == location]

    def success_status(self) -> int:
        """The first documented 2xx status, which the mock answers on success."""
        for status in sorted(self.responses):
            if status.startswith("2") and status.isdigit():
                return int(status)
        raise ContractError(f"{self.operation_id}: documents no 2xx response")


@dataclass(frozen=True)
class Contract:
    """A loaded spec: its document, lifecycle and operations."""

    origin: str
    document: Mapping[str, Any]
    lifecycle: Lifecycle
    operations: tuple[Operation, ...]
    base_path: str

    def by_kind(self, kind: str) -> list[Operation]:
        return [operation for operation in self.operations if operation.kind == kind]

    def one_of_kind(self, kind: str) -> Operation | None:
        found = self.by_kind(kind)
        return found[0] if found else None

    def transition_for(self, action: str) -> Operation | None:
        for operation in self.by_kind("transition"):
            if operation.serves(action):
                return operation
        return None


def _parameters(document: Mapping[str, Any], raw: list[Any], pointer: str) -> dict[tuple[str, str], Parameter]:
    found: dict[tuple[str, str], Parameter] = {}
    for index, item in enumerate(raw):
        body, where = resolve(document, item, f"{pointer}/{index}")
        schema, _ = resolve(document, body.get("schema", {}), f"{where}/schema")
        parameter = Parameter(
            name=str(body["name"]),
            location=str(body["in"]),
            required=bool(body.get("required", False)),
            schema_pointer=f"{where}/schema",
            schema=schema if isinstance(schema, Mapping) else {},
            explode=bool(body.get("explode", body.get("style", "form") == "form")),
        )
        found[(parameter.location, parameter.name.lower())] = parameter
    return found


def kind_error(label: str, extension: Any, kinds: frozenset[str] = KINDS) -> str | None:
    """What is wrong with an operation's ``x-operation.kind``, worded alike for ``serve`` and
    ``lint`` (``serve`` finds lint's line by the words), or None when it is one of ``kinds``."""
    if isinstance(extension, Mapping) and extension.get("kind") in kinds:
        return None
    if not isinstance(extension, Mapping):
        got = "no x-operation" if extension is None else f"x-operation {extension!r}, not a mapping"
    else:
        got = f"{extension['kind']!r}" if "kind" in extension else "no kind"
    return f"{label}: x-operation.kind must be one of {', '.join(sorted(kinds))}; got {got}"


def _operation(
    document: Mapping[str, Any],
    path: str,
    method: str,
    raw: Mapping[str, Any],
    inherited: dict[tuple[str, str], Parameter],
    kinds: frozenset[str] = KINDS,
) -> Operation:
    pointer = pointer_of("paths", path, method)
    label = raw.get("operationId") or f"{method.upper()} {path}"
    extension = raw.get("x-operation")
    problem = kind_error(str(label), extension, kinds)
    if problem is not None or not isinstance(extension, Mapping):
        raise ContractError(problem)
    parameters = dict(inherited)
    parameters.update(_parameters(document, raw.get("parameters") or [], f"{pointer}/parameters"))
    body_required = False
    body_schemas: dict[str, str] = {}
    if "requestBody" in raw:
        body, where = resolve(document, raw["requestBody"], f"{pointer}/requestBody")
        body_required = bool(body.get("required", False))
        for media_type in body.get("content") or {}:
            body_schemas[media_type] = f"{where}/content/{escape(media_type)}/schema"
    responses = {}
    for status, item in (raw.get("responses") or {}).items():
        body, where = resolve(document, item, f"{pointer}/responses/{status}")
        responses[str(status)] = Response(
            status=str(status),
            content_types=tuple(body.get("content") or {}),
            headers=tuple(body.get("headers") or {}),
            pointer=where,
        )
    security = raw.get("security", document.get("security", []))
    action_field = extension.get("action_field")
    if action_field is not None:
        actions = extension.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(name, str) for name in actions):
            raise ContractError(f"{label}: x-operation.action_field needs x-operation.actions, a list of actions")
        served = tuple(actions)
    else:
        served = (str(extension["action"]),) if extension.get("action") else ()
    try:
        envelope = envelope_of(str(extension["kind"]), extension)
        request_envelope = request_envelope_of(extension)
        item_envelope = item_envelope_of(extension)
    except ContractError as exc:
        raise ContractError(f"{label}: {exc}") from exc
    return Operation(
        operation_id=str(label),
        method=method.upper(),
        path=path,
        kind=str(extension["kind"]),
        action=extension.get("action"),
        parameters=tuple(parameters.values()),
        body_required=body_required,
        body_schemas=body_schemas,
        responses=responses,
        security=tuple(security or ()),
        extension=extension,
        extensions={key: value for key, value in raw.items() if str(key).startswith("x-")},
        envelope=envelope,
        actions=served,
        action_field=str(action_field) if action_field is not None else None,
        request_envelope=request_envelope,
        item_envelope=item_envelope,
    )


def parse_operations(document: Mapping[str, Any], kinds: frozenset[str] = KINDS) -> tuple[Operation, ...]:
    """Every operation of ``document``; each must say what it does with one of ``kinds``."""
    return tuple(_iter_operations(document, kinds))


def security_schemes(document: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    components = document.get("components") or {}
    schemes: Mapping[str, Mapping[str, Any]] = components.get("securitySchemes") or {}
    return schemes


def _iter_operations(document: Mapping[str, Any], kinds: frozenset[str]) -> Iterator[Operation]:
    for path, item in (document.get("paths") or {}).items():
        base = pointer_of("paths", path)
        inherited = _parameters(document, item.get("parameters") or [], f"{base}/parameters")
        for method in HTTP_METHODS:
            if method in item:
                yield _operation(document, path, method, item[method], inherited, kinds)


def invalid_body_status(document: Mapping[str, Any]) -> int:
    """The status for a well-formed body that breaks the schema: 422, or 400 where a vendor
    answers every bad request alike (``x-invalid-body-status``)."""
    status = document.get("x-invalid-body-status", 422)
    if status not in (400, 422):
        raise ContractError(f"x-invalid-body-status: expected 400 or 422, got {status!r}")
    return int(status)


def _base_path(document: Mapping[str, Any]) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    return urlsplit(str(servers[0].get("url", "/"))).path.rstrip("/")


def build_contract(document: Mapping[str, Any], origin: str) -> Contract:
    """Interpret a parsed document; ContractError names the first thing wrong."""
    try:
        lifecycle = parse_lifecycle(document)
        operations = parse_operations(document)
        invalid_body_status(document)
        tenancy_spec(document)
        demo_keys(document)
        id_style(document)
    except ContractError as exc:
        raise ContractError(f"{origin}: {exc}") from exc
    for operation in operations:
        if operation.kind == "copy":
            if len(operation.actions) != 1 or operation.actions[0] not in lifecycle.copies:
                raise ContractError(
                    f"{origin}: {operation.operation_id}: x-operation.action {operation.action!r} is not a copy of "
                    f"x-lifecycle.copies ({', '.join(lifecycle.copies) or 'none declared'})"
                )
            continue
        if operation.kind != "transition":
            continue
        unknown: list[str | None] = [action for action in operation.actions if not lifecycle.is_action(action)]
        if unknown or not operation.actions:
            raise ContractError(
                f"{origin}: {operation.operation_id}: x-operation action(s) {', '.join(map(repr, unknown or [None]))} "
                f"not action(s) of x-lifecycle ({', '.join([*lifecycle.transitions, *lifecycle.copies])})"
            )
    return Contract(origin, document, lifecycle, operations, _base_path(document))


def load_contract(source: SpecSource) -> Contract:
    return build_contract(parse_document(source), source.origin)

"""Request validation, compiled once per operation from the contract's schemas.

Parameters arrive as text, so they are coerced to the types their schemas name before
the JSON Schema check. Parameter mistakes answer 400; a readable body that breaks its
schema answers 422; each error names the parameter or field and says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from campaign_mock.contract.operations import Operation, Parameter, resolve
from campaign_mock.contract.timefmt import is_timestamp
from campaign_mock.server.domain.errors import InvalidBody, InvalidRequest, MalformedBody, UnsupportedMediaType
from campaign_mock.server.web.bodies import RequestBody, media_type_of
from campaign_mock.server.web.coercion import coerce
from campaign_mock.server.web.fast_validation import FastValidator
from campaign_mock.server.web.xmlbodies import is_xml, typed

SPEC_URI = "urn:campaign-mock:spec"
MAX_REPORTED_ERRORS = 10
MAX_DETAIL_CHARS = 300

FORMATS = FormatChecker()
"""Every format jsonschema can check (uuid, email, date, ipv4, ...): a request the kit's
schema check would call invalid is refused here too; ``date-time`` is checked our way
(RFC 3339 to the letter, see ``contract.timefmt``)."""
FORMATS.checks("date-time")(is_timestamp)


class SchemaCompiler:
    """Validators for schemas found by JSON pointer inside one OpenAPI document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))

    def validator(self, schema: Mapping[str, Any]) -> FastValidator:
        return FastValidator(schema, Draft202012Validator(schema, registry=self._registry, format_checker=FORMATS))

    def at(self, pointer: str) -> FastValidator:
        return self.validator(self.inlined(pointer))

    def inlined(self, pointer: str) -> dict[str, Any]:
        """The schema at ``pointer`` with local ``$ref``s replaced by what they point at.

        Resolved once at start-up, so validating a request does no reference lookups (they
        were over half the cost of a simple read). A recursive reference stays a ``$ref``
        (absolute, resolved through the registry).
        """
        node, _ = resolve(self._document, {"$ref": f"#{pointer}"}, pointer)
        return dict(self._inline(node, frozenset({pointer})))

    def _inline(self, node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, Mapping):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/"):
                if reference[1:] in seen:
                    return {**node, "$ref": SPEC_URI + reference}
                target, _ = resolve(self._document, {"$ref": reference}, reference)
                merged = {**{k: v for k, v in node.items() if k != "$ref"}, **target} if len(node) > 1 else target
                return self._inline(merged, seen | {reference[1:]})
            return {key: self._inline(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [self._inline(item, seen) for item in node]
        return node

    def resolved(self, node: Any, pointer: str) -> Any:
        return resolve(self._document, node, pointer)[0]


@dataclass(frozen=True)
class ValidRequest:
    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, Any]
    body: Any
    tenant: str | None = None  # the workspace of the key that sent it (server.tenancy)
    prefix: str = ""  # the sandbox's path prefix (/sandboxes/NAME), for links in answers


def _error_entries(
    errors: Iterable[ValidationError], location: str, default_name: str | None = None
) -> list[dict[str, Any]]:
    entries = []
    for error in sorted(errors, key=lambda e: [str(part) for part in e.absolute_path])[:MAX_REPORTED_ERRORS]:
        path = [str(part) for part in error.absolute_path]
        name = path[0] if path else default_name
        if not path and isinstance(error.instance, Mapping):
            name = _offending_key(error, error.instance) or name
        entry = {"in": location, "pointer": "".join(f"/{part}" for part in path), "detail": _shortened(error.message)}
        if name is not None:
            entry["name"] = name
        entries.append(entry)
    return entries


def _shortened(message: str) -> str:
    """A validation message, cut where it would echo a huge value back (a 5,000-digit number)."""
    return message if len(message) <= MAX_DETAIL_CHARS else message[: MAX_DETAIL_CHARS - 20] + "... (shortened)"


def _offending_key(error: ValidationError, instance: Mapping[str, Any]) -> str | None:
    """The top-level key a ``required`` or ``additionalProperties`` error is about."""
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [key for key in error.validator_value if key not in instance]
        return str(missing[0]) if missing else None
    if error.validator == "additionalProperties" and isinstance(error.schema, Mapping):
        known = set(error.schema.get("properties", {}))
        unexpected = [key for key in instance if key not in known]
        return str(unexpected[0]) if unexpected else None
    return None


def _summary(entries: list[dict[str, Any]], location: str) -> str:
    first = entries[0]
    if location == "body":
        place = f"body {first['pointer'] or '/'}"
    else:
        place = f"{location} parameter {first.get('name', '')}{first['pointer']}"
    more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
    return f"{place}: {first['detail']}{more}"


class ParameterGroup:
    """All parameters in one location (path, query or header), checked as one object."""

    def __init__(self, compiler: SchemaCompiler, location: str, parameters: list[Parameter]) -> None:
        self.location = location
        self.parameters = parameters
        self._item_types = {p.name: self._json_types(compiler, p) for p in parameters}
        self._validator = compiler.validator(
            {
                "type": "object",
                "properties": {p.name: compiler.inlined(p.schema_pointer) for p in parameters},
                "required": [p.name for p in parameters if p.required],
            }
        )
        self._defaults = {p.name: p.schema["default"] for p in parameters if "default" in p.schema}
        self._any_required = any(p.required for p in parameters)

    @staticmethod
    def _json_types(compiler: SchemaCompiler, parameter: Parameter) -> tuple[bool, list[str]]:
        schema = parameter.schema
        is_array = schema.get("type") == "array"
        target = compiler.resolved(schema.get("items", {}), parameter.schema_pointer) if is_array else schema
        types = target.get("type", "string") if isinstance(target, Mapping) else "string"
        return is_array, [types] if isinstance(types, str) else list(types)

    def check(self, raw: Mapping[str, list[str]]) -> dict[str, Any]:
        if not self.parameters:
            return {}
        values: dict[str, Any] = {}
        problems: list[dict[str, Any]] = []
        for parameter in self.parameters:
            given = raw.get(parameter.name)
            if not given:
                continue
            is_array, types = self._item_types[parameter.name]
            if is_array:
                items = given if parameter.explode else [part for value in given for part in value.split(",")]
                values[parameter.name] = [coerce(item, types) for item in items]
            elif len(given) > 1:
                problems.append(
                    {
                        "in": self.location,
                        "name": parameter.name,
                        "pointer": "",
                        "detail": f"given {len(given)} times; send it once",
                    }
                )
            else:
                values[parameter.name] = coerce(given[0], types)
        if not values and not problems and not self._any_required:
            return dict(self._defaults)  # nothing given, nothing required: nothing to check
        if not problems and self._validator.is_valid(values):
            return {**self._defaults, **values}
        if not problems:
            errors = list(self._validator.iter_errors(values))
            problems = _error_entries(errors, self.location)
            for problem in problems:
                problem["pointer"] = problem["pointer"].removeprefix("/" + str(problem.get("name", "")))
        if problems:
            raise InvalidRequest(_summary(problems, self.location), extra={"errors": problems})
        return {**self._defaults, **values}


class OperationValidator:
    """Everything one operation accepts, compiled at start-up."""

    def __init__(self, compiler: SchemaCompiler, operation: Operation) -> None:
        self.operation = operation
        self._groups = {
            location: ParameterGroup(compiler, location, operation.parameters_in(location))
            for location in ("path", "query", "header")
        }
        self._bodies = {media_type: compiler.at(pointer) for media_type, pointer in operation.body_schemas.items()}
        self._xml_schemas = {
            media_type: compiler.inlined(pointer)
            for media_type, pointer in operation.body_schemas.items()
            if is_xml(media_type)
        }

    def accepted_media_types(self) -> list[str]:
        return list(self._bodies)

    def check(
        self,
        path: Mapping[str, str],
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: RequestBody,
    ) -> ValidRequest:
        path_values = self._groups["path"].check({name: [value] for name, value in path.items()})
        query_values = self._groups["query"].check(query)
        header_values = self._groups["header"].check(
            {p.name: [headers[p.name.lower()]] for p in self._groups["header"].parameters if p.name.lower() in headers}
        )
        if "if-match" in headers and not any(name.lower() == "if-match" for name in header_values):
            # a precondition is honoured where the contract does not name it too (RFC 9110
            # 13.1.1: a server that sends ETags must not apply a write whose If-Match fails)
            header_values["If-Match"] = headers["if-match"]
        return ValidRequest(path_values, query_values, header_values, self._check_body(body))

    def _check_body(self, body: RequestBody) -> Any:
        if not self._bodies:
            return None
        if not body.raw:
            if self.operation.body_required:
                accepted = " or ".join(self._bodies)
                raise MalformedBody(f"A request body is required: send {accepted}.")
            return None
        media_type, params = media_type_of(body.content_type)
        accepted = " or ".join(self._bodies)
        if not media_type:
            raise UnsupportedMediaType(f"The body has no Content-Type; send {accepted}.")
        validator = self._bodies.get(media_type)
        if validator is None:
            raise UnsupportedMediaType(f"Content-Type {media_type!r} is not accepted here; send {accepted}.")
        charset = params.get("charset", "utf-8")
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"charset {charset!r} is not accepted; send UTF-8.")
        document = body.tree()
        if media_type in self._xml_schemas:
            document = typed(document, self._xml_schemas[media_type])
        errors = [] if validator.is_valid(document) else list(validator.iter_errors(document))
        if errors:
            entries = _error_entries(errors, "body")
            raise InvalidBody(_summary(entries, "body"), extra={"errors": entries})
        return document


def parse_query(query_string: str) -> dict[str, list[str]]:
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest(f"The query string cannot be read: {exc}.") from exc
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def compile_validators(document: Mapping[str, Any], operations: Iterable[Operation]) -> dict[str, OperationValidator]:
    compiler = SchemaCompiler(document)
    return {operation.operation_id: OperationValidator(compiler, operation) for operation in operations}

"""Request bodies the kit sends: the spec's example where it gives one, else a valid body made
from the schema.

A spec without examples once left the kit with nothing to create campaigns with: it checked no
lifecycle and no listing at all, and still said "conformant". Now such a body is made from the
operation's schema, deterministically (the same spec gives the same body on every run): the
required members, plus, for an update, one plain member to change. Every made body is checked
against its schema; where the simple maker cannot satisfy it (an unusual ``pattern``, say),
schemathesis' generator (Hypothesis) finds one. The report names every generated body.
"""

from __future__ import annotations

import random
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from campaign_mock.contract.operations import Contract, Operation, resolve
from campaign_mock.contract.pointers import read_pointer
from campaign_mock.contract.timefmt import format_timestamp

SPEC_URI = "urn:conformance:bodies"
TEXT_CANDIDATES = ("kit", "kit-value", "Kit campaign", "k", "a1", "1", "A", "kit_value")
MAX_DEPTH = 8


@dataclass(frozen=True)
class ChosenBody:
    media_type: str
    body: Any
    generated: bool  # made from the schema (the spec gives no example)


class _Maker:
    """A valid instance of a schema, from its keywords; None where they ask too much of it."""

    def __init__(self, document: Mapping[str, Any], skip: frozenset[str], change_one: bool) -> None:
        self._document = document
        self._skip = skip  # members left out of objects at the top level (lifecycle times, status)
        self._change_one = change_one

    def make(self, schema: Any, depth: int = 0, top: bool = True) -> Any:
        node, _ = resolve(self._document, schema, "") if isinstance(schema, Mapping) else (schema, "")
        if not isinstance(node, Mapping) or depth > MAX_DEPTH:
            return None
        if "const" in node:
            return node["const"]
        if node.get("enum"):
            values = [value for value in node["enum"] if value is not None]
            return values[0] if values else None
        for combinator in ("allOf", "anyOf", "oneOf"):
            if node.get(combinator):
                return self._combined(node, combinator, depth, top)
        kinds = node.get("type", "object" if "properties" in node else "string")
        kind = next((k for k in ([kinds] if isinstance(kinds, str) else kinds) if k != "null"), "null")
        return self._of_type(str(kind), node, depth, top)

    def _combined(self, node: Mapping[str, Any], combinator: str, depth: int, top: bool) -> Any:
        parts = node[combinator]
        if combinator == "allOf":
            merged: dict[str, Any] = {key: value for key, value in node.items() if key != "allOf"}
            for part in parts:
                resolved, _ = resolve(self._document, part, "")
                for key, value in (resolved or {}).items():
                    if key == "properties":
                        merged.setdefault("properties", {}).update(value)
                    elif key == "required":
                        merged["required"] = [*merged.get("required", []), *value]
                    else:
                        merged.setdefault(key, value)
            return self.make(merged, depth + 1, top)
        return self.make(parts[0], depth + 1, top)

    def _of_type(self, kind: str, node: Mapping[str, Any], depth: int, top: bool) -> Any:
        if kind == "object":
            return self._object(node, depth, top)
        if kind == "array":
            count = int(node.get("minItems", 0))
            return [self.make(node.get("items", {}), depth + 1, False) for _ in range(count)]
        if kind in {"integer", "number"}:
            return _number(node, kind)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _text(node)

    def _object(self, node: Mapping[str, Any], depth: int, top: bool) -> dict[str, Any]:
        properties: Mapping[str, Any] = node.get("properties") or {}
        required = [str(name) for name in node.get("required") or []]
        made = {name: self.make(properties.get(name, {}), depth + 1, False) for name in required}
        if top and self._change_one and not made:
            plain = [
                name for name in properties if name not in self._skip and _is_plain(self._document, properties[name])
            ]
            if plain:
                made[plain[0]] = self.make(properties[plain[0]], depth + 1, False)
        return {name: value for name, value in made.items() if not (top and name in self._skip)}


def _is_plain(document: Mapping[str, Any], schema: Any) -> bool:
    node, _ = resolve(document, schema, "")
    kinds = node.get("type") if isinstance(node, Mapping) else None
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    return "string" in kinds and "format" not in node and not node.get("readOnly")


def _number(node: Mapping[str, Any], kind: str) -> int | float:
    low = node.get("minimum", node.get("exclusiveMinimum", 0))
    if "exclusiveMinimum" in node and "minimum" not in node:
        low = low + 1
    high = node.get("maximum", node.get("exclusiveMaximum"))
    value = max(1, low)
    if high is not None:
        value = min(value, high - (1 if "exclusiveMaximum" in node and "maximum" not in node else 0))
    step = node.get("multipleOf")
    if step:
        value = step * max(1, round(value / step))
    return int(value) if kind == "integer" else float(value)


def _text(node: Mapping[str, Any]) -> str:
    form = node.get("format")
    if form == "date-time":
        return format_timestamp(datetime.now(UTC) + timedelta(days=30))
    if form == "uuid":
        return str(uuid.uuid4())  # a fresh id each time: a made body may create several campaigns
    if form == "email":
        return "kit@example.com"
    low, high = int(node.get("minLength", 0)), node.get("maxLength")
    for candidate in TEXT_CANDIDATES:
        text = candidate.ljust(low, "x")
        if high is None or len(text) <= int(high):
            return text
    return "k" * max(1, low)


class BodyChooser:
    """Example or generated body per operation, chosen once per run."""

    def __init__(self, contract: Contract) -> None:
        self._contract = contract
        self._registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, DRAFT202012.create_resource(contract.document)
        )
        self._chosen: dict[tuple[str, str], ChosenBody | None] = {}

    def generated(self) -> list[str]:
        """The operations the kit sent a body to that it made from the schema."""
        return sorted({key[0] for key, chosen in self._chosen.items() if chosen is not None and chosen.generated})

    def example(self, operation: Operation) -> tuple[str, Any] | None:
        """(media type, example) of a documented request body, JSON first."""
        for media_type, pointer in operation.body_schemas.items():
            content = read_pointer(self._contract.document, pointer.rsplit("/", 1)[0])
            if isinstance(content, Mapping) and "example" in content:
                return media_type, _copy(content["example"])
            if isinstance(content, Mapping) and isinstance(content.get("examples"), Mapping):
                for example in content["examples"].values():
                    if isinstance(example, Mapping) and "value" in example:
                        return media_type, _copy(example["value"])
        return None

    def choose(self, operation: Operation, purpose: str, skip: frozenset[str] = frozenset()) -> ChosenBody | None:
        """The body to send to ``operation``: its example, else one made from its schema.
        ``purpose`` (create, update, action) says what the made body must do."""
        key = (operation.operation_id, purpose)
        if key not in self._chosen:
            found = self.example(operation)
            if found is not None:
                self._chosen[key] = ChosenBody(found[0], found[1], generated=False)
            else:
                self._chosen[key] = self._generate(operation, purpose, skip)
        chosen = self._chosen[key]
        return None if chosen is None else ChosenBody(chosen.media_type, _copy(chosen.body), chosen.generated)

    def _generate(self, operation: Operation, purpose: str, skip: frozenset[str]) -> ChosenBody | None:
        json_types = [media for media in operation.body_schemas if media.endswith("json")]
        if not json_types:
            return None
        media_type = "application/json" if "application/json" in json_types else json_types[0]
        pointer = operation.body_schemas[media_type]
        validator = Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self._registry)
        schema, _ = resolve(self._contract.document, {"$ref": f"#{pointer}"}, "")
        made = _Maker(self._contract.document, skip, change_one=purpose == "update").make(schema)
        if not validator.is_valid(made):
            made = _hypothesis_body(self._contract, operation, media_type, validator.is_valid)
        return None if made is None else ChosenBody(media_type, made, generated=True)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _hypothesis_body(contract: Contract, operation: Operation, media_type: str, valid: Callable[[Any], bool]) -> Any:
    """A valid body found by schemathesis' own generator, the smallest it shrinks to (slow:
    seconds; only for schemas the simple maker cannot satisfy)."""
    import hypothesis  # noqa: PLC0415 (imported only on this slow path)
    import schemathesis  # noqa: PLC0415

    schema = schemathesis.openapi.from_dict(dict(contract.document))
    strategy = schema[operation.path][operation.method].as_strategy(media_type=media_type)
    config = hypothesis.settings(
        database=None, max_examples=300, deadline=None, suppress_health_check=list(hypothesis.HealthCheck)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            seeded = random.Random(0)  # noqa: S311 (the same body on every run; nothing secret)
            case = hypothesis.find(strategy, lambda case: valid(case.body), settings=config, random=seeded)
        except (hypothesis.errors.NoSuchExample, hypothesis.errors.Unsatisfiable):
            return None
    return case.body

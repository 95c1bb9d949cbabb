"""Which keys a schema object may hold: JSON Schema 2020-12's keywords, OpenAPI 3.1's own, and
``x-`` extensions. Anything else is a typo, or half a sentence: in a YAML flow mapping,
``{type: integer, description: Position in the sequence, as the client numbers it.}`` makes
``as the client numbers it.`` a key of the schema (Redocly's ``struct`` rule fails the spec).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

JSON_SCHEMA_2020_12 = frozenset(
    {
        "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas",
        "prefixItems", "items", "contains", "properties", "patternProperties", "additionalProperties",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties",
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired",
        "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
        "format", "contentEncoding", "contentMediaType", "contentSchema",
    }
)  # fmt: skip
OPENAPI_SCHEMA_KEYWORDS = frozenset({"discriminator", "xml", "externalDocs", "example"})
KNOWN = JSON_SCHEMA_2020_12 | OPENAPI_SCHEMA_KEYWORDS
HINTS = {
    "nullable": "OpenAPI 3.0's nullable is gone in 3.1: write type: [X, 'null']",
    "dependencies": "draft 7's dependencies became dependentRequired and dependentSchemas",
    "definitions": "write $defs (2020-12) or put shared schemas under components/schemas",
}

SUBSCHEMA = ("not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
             "additionalProperties", "contentSchema", "items")  # fmt: skip
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")

Path = tuple[str | int, ...]


def unknown_keywords(schema: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """(where, key) of every key of ``schema`` (and its subschemas) that no schema may hold."""
    if not isinstance(schema, Mapping):
        return
    for key in schema:
        text = str(key)
        if text not in KNOWN and not text.startswith("x-"):
            yield (*path, text), text
    for key in SUBSCHEMA:
        if key in schema:
            yield from unknown_keywords(schema[key], (*path, key))
    for key in SUBSCHEMA_LISTS:
        for index, item in enumerate(schema.get(key) or [] if isinstance(schema.get(key), list) else []):
            yield from unknown_keywords(item, (*path, key, index))
    for key in SUBSCHEMA_MAPS:
        members = schema.get(key)
        if isinstance(members, Mapping):
            for name, member in members.items():
                yield from unknown_keywords(member, (*path, key, str(name)))


def schemas_in(document: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every schema an OpenAPI document holds at the top of a schema position: the values of
    ``schema`` keys (parameters, headers, media types) and of ``components/schemas``."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            here = (*path, str(key))
            if key == "schema" and isinstance(value, Mapping):
                yield here, value
            elif path == ("components",) and key == "schemas" and isinstance(value, Mapping):
                for name, schema in value.items():
                    yield (*here, str(name)), schema
            elif not str(key).startswith("x-") and key not in ("example", "examples"):
                yield from schemas_in(value, here)
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from schemas_in(item, (*path, index))

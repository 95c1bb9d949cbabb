"""XML request and answer bodies, for vendors that take them (Altcraft: ``<xml><id>18</id></xml>``).

Parsing goes through defusedxml, which refuses entity expansion and external entities (a
billion-laughs body is a 400, not a hung server). XML has only text, so values are turned
into the types the operation's JSON Schema asks for before validation. Answers are written
with xmltodict under one ``<xml>`` root, as the vendor documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element

import xmltodict
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from campaign_mock.server.domain.errors import MalformedBody
from campaign_mock.server.web.coercion import coerce

XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})
ROOT = "xml"


def is_xml(media_type: str | None) -> bool:
    return (media_type or "").split(";")[0].strip().lower() in XML_MEDIA_TYPES


def parse_xml_tree(raw: bytes, max_depth: int = 32) -> Any:
    """The root element's children as a mapping of text (repeated elements as lists), or the
    root's text when it has no children; MalformedBody if unreadable. Linear in the body:
    65,000 repeated elements once took seconds when each repeat copied the list so far."""
    try:
        root = fromstring(raw)
    except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        # ValueError / LookupError: an XML declaration naming an encoding Python cannot or will
        # not decode (encoding="UTF-7", "x-bogus")
        raise MalformedBody(f"The body is not readable XML: {exc}.") from exc
    return _element(root, 1, max_depth)


def parse_xml(raw: bytes, schema: Mapping[str, Any] | None = None, max_depth: int = 32) -> Any:
    """``parse_xml_tree`` typed by ``schema``."""
    return typed(parse_xml_tree(raw, max_depth), schema or {})


def _element(node: Element, depth: int, max_depth: int) -> Any:
    if depth > max_depth:
        raise MalformedBody(f"The body nests elements deeper than {max_depth} levels.")
    children = list(node)
    if not children:
        return (node.text or "").strip()
    found: dict[str, list[Any]] = {}
    for child in children:
        found.setdefault(child.tag, []).append(_element(child, depth + 1, max_depth))
    return {tag: values[0] if len(values) == 1 else values for tag, values in found.items()}


SCALARS = ("integer", "number", "boolean")


def typed(value: Any, schema: Mapping[str, Any]) -> Any:
    """Text turned into the object, integer, number, boolean or array the schema wants, where
    it reads as one (an empty element where an object is wanted is an empty object, as ``{}``)."""
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return {key: typed(item, properties.get(key) or {}) for key, item in value.items()}
    if value == "" and "object" in kinds:
        return {}
    if "array" in kinds:
        items = value if isinstance(value, list) else [value]
        return [typed(item, schema.get("items") or {}) for item in items]
    if not isinstance(value, str):
        return value
    if value == "" and "null" in kinds and "string" not in kinds:
        return None
    return coerce(value, [kind for kind in SCALARS if kind in kinds], null_text=())


def render_xml(body: Any) -> bytes:
    """``body`` under one ``<xml>`` root."""
    document = {ROOT: body if isinstance(body, Mapping) else {"value": body}}
    text: str = xmltodict.unparse(document, full_document=True)
    return text.encode("utf-8")

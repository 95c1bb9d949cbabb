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

from campaign_mock.server.errors import MalformedBody

XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})
ROOT = "xml"


def is_xml(media_type: str | None) -> bool:
    return (media_type or "").split(";")[0].strip().lower() in XML_MEDIA_TYPES


def parse_xml(raw: bytes, schema: Mapping[str, Any] | None = None, max_depth: int = 32) -> Any:
    """The root element's children as a mapping (or the root's text, when it has no children),
    typed by ``schema``; MalformedBody if unreadable."""
    try:
        root = fromstring(raw)
    except (ParseError, DefusedXmlException) as exc:
        raise MalformedBody(f"The body is not readable XML: {exc}.") from exc
    return _typed(_element(root, 1, max_depth), schema or {})


def _element(node: Element, depth: int, max_depth: int) -> Any:
    if depth > max_depth:
        raise MalformedBody(f"The body nests elements deeper than {max_depth} levels.")
    children = list(node)
    if not children:
        return (node.text or "").strip()
    found: dict[str, Any] = {}
    for child in children:
        value = _element(child, depth + 1, max_depth)
        if child.tag in found:
            previous = found[child.tag]
            found[child.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[child.tag] = value
    return found


def _typed(value: Any, schema: Mapping[str, Any]) -> Any:
    """Text turned into the integer, number, boolean or array the schema wants, where it reads as one."""
    kinds = schema.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return {key: _typed(item, properties.get(key) or {}) for key, item in value.items()}
    if "array" in kinds:
        items = value if isinstance(value, list) else [value]
        return [_typed(item, schema.get("items") or {}) for item in items]
    if not isinstance(value, str):
        return value
    if value == "" and "null" in kinds and "string" not in kinds:
        return None
    if "integer" in kinds and value.lstrip("-").isdigit():
        return int(value)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def render_xml(body: Any) -> bytes:
    """``body`` under one ``<xml>`` root."""
    document = {ROOT: body if isinstance(body, Mapping) else {"value": body}}
    text: str = xmltodict.unparse(document, full_document=True)
    return text.encode("utf-8")

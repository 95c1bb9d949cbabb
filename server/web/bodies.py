"""Request bodies: read from the wire once, parsed once, refused early when unusable.

A body is parsed at most once per request (the token a vendor puts in the body is read
before authentication, and the same parse is validated later). JSON is read strictly:
UTF-8 only, no NaN or Infinity, no number too large for a float, bounded nesting, and no
lone surrogate (``"\\ud800"``): such a string can be parsed but never written out again, so
storing it once broke every later list of campaigns.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from campaign_mock.server.domain.errors import ApiError, MalformedBody
from campaign_mock.server.web.xmlbodies import is_xml, parse_xml_tree

DEFAULT_MAX_JSON_DEPTH = 32
_UNPARSED: Any = object()


def media_type_of(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``application/json; charset=UTF-8`` -> (``application/json``, {charset: utf-8})."""
    if not content_type:
        return "", {}
    main, *params = content_type.split(";")
    parsed = {}
    for param in params:
        key, _, value = param.partition("=")
        parsed[key.strip().lower()] = value.strip().strip('"').lower()
    return main.strip().lower(), parsed


@dataclass
class RequestBody:
    """What the client sent: its media type and bytes, and (once asked for) its parse."""

    content_type: str | None
    raw: bytes
    max_depth: int = DEFAULT_MAX_JSON_DEPTH
    _tree: Any = field(default=_UNPARSED, init=False, repr=False, compare=False)

    @property
    def is_xml(self) -> bool:
        return is_xml(self.content_type)

    def tree(self) -> Any:
        """The parsed body: JSON, or XML as nested mappings of text (typed later by its schema).
        MalformedBody when it cannot be read; parsed on the first call only."""
        if self._tree is _UNPARSED:
            self._tree = (
                parse_xml_tree(self.raw, self.max_depth) if self.is_xml else parse_json(self.raw, self.max_depth)
            )
        return self._tree

    def member(self, name: str) -> Any:
        """One top-level member (a token, an answer format), or None; MalformedBody if unreadable."""
        if not self.raw:
            return None
        document = self.tree()
        return document.get(name) if isinstance(document, dict) else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


EXACT_INTEGERS = 2**53


def _finite(text: str) -> float | int:
    """A JSON number with a fraction or exponent; an integral one (``97.0``, ``1e3``) is the
    same number as the integer and is kept as one, so it is written back as ``97``, as a
    member the schema types ``integer`` must be (a strict client refuses ``97.0``)."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]}{'...' if len(text) > 40 else ''} is too large")
    return int(number) if number.is_integer() and abs(number) <= EXACT_INTEGERS else number


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_shape(document: Any, max_depth: int, strings: bool) -> None:
    """Nesting within ``max_depth`` and, when ``strings``, no string UTF-8 cannot hold
    (iteratively: no recursion limit to hit)."""
    stack: list[tuple[Any, int, str]] = [(document, 1, "")]
    while stack:
        node, level, pointer = stack.pop()
        if isinstance(node, dict):
            if level > max_depth:
                raise MalformedBody(f"The body nests arrays and objects deeper than {max_depth} levels.")
            for key, child in node.items():
                where = f"{pointer}/{key}" if strings else ""
                if strings and not _is_unicode(key):
                    _lone_surrogate(key, where)
                stack.append((child, level + 1, where))
        elif isinstance(node, list):
            if level > max_depth:
                raise MalformedBody(f"The body nests arrays and objects deeper than {max_depth} levels.")
            stack.extend(
                (child, level + 1, f"{pointer}/{index}" if strings else "") for index, child in enumerate(node)
            )
        elif strings and isinstance(node, str) and not _is_unicode(node):
            _lone_surrogate(node, pointer)


def _lone_surrogate(text: str, pointer: str) -> None:
    bad = next(char for char in text if 0xD800 <= ord(char) <= 0xDFFF)
    raise MalformedBody(
        f"The body holds a lone surrogate (\\u{ord(bad):04x}) at {pointer or '/'}: a JSON string must be valid "
        "Unicode; send the character itself, or both halves of a surrogate pair.",
        extra={"errors": [{"in": "body", "pointer": pointer, "detail": "lone surrogate"}]},
    )


def parse_json(raw: bytes, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    """Decode UTF-8 JSON strictly; MalformedBody says what broke."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            f"The body is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})."
        ) from exc
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from exc
    except ValueError as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.") from exc
    except RecursionError as exc:
        raise MalformedBody(f"The body nests arrays and objects deeper than {max_depth} levels.") from exc
    # Only an escape (\uD800) can spell a lone surrogate: strictly decoded UTF-8 holds none.
    _check_shape(document, max_depth, strings="\\u" in text)
    return document


def readable_member(body: RequestBody, name: str) -> Any:
    """``body.member(name)``, or None where the body cannot be read (validation says why later)."""
    try:
        return body.member(name)
    except ApiError:
        return None

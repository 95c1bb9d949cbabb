"""JSON pointers (RFC 6901): written and followed in one place for the server, the kit and lint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING: Any = object()
"""What ``step`` answers where a pointer leads nowhere."""


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_of(*tokens: str) -> str:
    return "".join(f"/{escape(token)}" for token in tokens)


def step(node: Any, raw: str) -> Any:
    """The child that one (escaped) pointer token names, or ``MISSING``."""
    token = raw.replace("~1", "/").replace("~0", "~")
    if isinstance(node, Mapping) and token in node:
        return node[token]
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return MISSING


def read_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None when the path does not exist."""
    node = document
    for raw in [part for part in pointer.split("/") if part] if pointer else []:
        node = step(node, raw)
        if node is MISSING:
            return None
    return node


def with_value_at(document: Any, pointer: str, value: Any) -> Any:
    """A copy of ``document`` with ``value`` at ``pointer``, objects made on the way."""
    tokens = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    if not tokens:
        return value
    root: dict[str, Any] = dict(document) if isinstance(document, dict) else {}
    node = root
    for token in tokens[:-1]:
        child = node.get(token)
        node[token] = dict(child) if isinstance(child, dict) else {}
        node = node[token]
    node[tokens[-1]] = value
    return root

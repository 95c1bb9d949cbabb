"""Field projection: an answer cut down to the members a client names, or without those it names.

Vendors let a client ask for part of an answer (Mailchimp:
``GET /campaigns?fields=campaigns.id,campaigns.status,total_items``, ``GET
/campaigns/{id}?exclude_fields=settings``). The operation's ``x-operation`` names the
parameters (``fields_param``, ``exclude_fields_param``); each value is a comma-separated list
of dot paths relative to the answer body, and a path crosses arrays (``campaigns.id`` is the
``id`` of every item). The server cuts its answers with ``project`` and the kit judges a
server's answers by the same function, so the two cannot read a path differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

WHOLE: Mapping[str, Any] = MappingProxyType({})
"""A tree node that keeps (or drops) a member whole: the path ends there."""


@dataclass(frozen=True)
class Projection:
    """The parameters that cut one operation's answer; None where it has none."""

    fields: str | None
    exclude: str | None

    def values(self, params: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """The two parameters' values in a request (a list, as a form-style array arrives, is
        joined back with commas)."""
        return _text(params.get(self.fields) if self.fields else None), _text(
            params.get(self.exclude) if self.exclude else None
        )


def projection_of(extension: Mapping[str, Any]) -> Projection | None:
    """``x-operation.fields_param`` / ``exclude_fields_param``, or None when neither is named."""
    fields, exclude = extension.get("fields_param"), extension.get("exclude_fields_param")
    if fields is None and exclude is None:
        return None
    return Projection(None if fields is None else str(fields), None if exclude is None else str(exclude))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


def paths(value: str) -> list[tuple[str, ...]]:
    """``"a.b, c"`` as ``[("a", "b"), ("c",)]``; empty paths and segments are ignored."""
    found = []
    for text in value.split(","):
        segments = tuple(segment.strip() for segment in text.split(".") if segment.strip())
        if segments:
            found.append(segments)
    return found


def _tree(value: str) -> Mapping[str, Any]:
    """The paths as nested mappings; a path that ends at a member keeps it whole, whatever
    longer paths also name it."""
    root: dict[str, Any] = {}
    for segments in paths(value):
        node = root
        for index, segment in enumerate(segments):
            if node.get(segment) is WHOLE:
                break
            if index == len(segments) - 1:
                node[segment] = WHOLE
            else:
                node = node.setdefault(segment, {})
    return root


def _keep(body: Any, tree: Mapping[str, Any]) -> Any:
    if isinstance(body, list):
        return [_keep(item, tree) for item in body]
    if not isinstance(body, Mapping):
        return body  # a path deeper than the value reaches keeps the value as it is
    return {
        name: value if tree[name] is WHOLE else _keep(value, tree[name]) for name, value in body.items() if name in tree
    }


def _drop(body: Any, tree: Mapping[str, Any]) -> Any:
    if isinstance(body, list):
        return [_drop(item, tree) for item in body]
    if not isinstance(body, Mapping):
        return body
    return {
        name: value if name not in tree else _drop(value, tree[name])
        for name, value in body.items()
        if tree.get(name) is not WHOLE
    }


def project(body: Any, fields: str | None, exclude: str | None) -> Any:
    """``body`` with only the members ``fields`` names (when given), then without those
    ``exclude`` names (when given). Paths that name nothing are ignored, as vendors do."""
    if fields is not None and paths(fields):
        body = _keep(body, _tree(fields))
    if exclude is not None and paths(exclude):
        body = _drop(body, _tree(exclude))
    return body

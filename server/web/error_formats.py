"""Named error formats: how an ``ApiError`` is written on the wire.

``problem`` (RFC 9457) and ``envelope`` are built in; a config file may add templates.
Each format also states its JSON schema, so the served spec can document what the
server really sends after it was reconfigured.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from campaign_mock.server.domain.errors import ApiError

PROBLEM_TYPE_PREFIX = "urn:campaign-mock:problem:"


class ErrorFormat(Protocol):
    name: str
    media_type: str

    def render(self, error: ApiError, now: datetime) -> dict[str, Any]: ...

    def schema(self, status: int | None = None) -> dict[str, Any]:
        """The JSON schema of the body written for ``status`` (None: for any status)."""
        ...


class ProblemFormat:
    """RFC 9457 problem details plus the error's helpful members (``errors``, ...)."""

    name = "problem"
    media_type = "application/problem+json"

    def render(self, error: ApiError, now: datetime) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_PREFIX + error.code,
            "title": error.title,
            "status": error.status,
            "detail": error.detail,
        }
        body.update(error.extra)
        return body

    def schema(self, status: int | None = None) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object"}, "description": "One entry per invalid input."},
                "current_status": {"type": "string", "description": "The campaign's state (409)."},
                "allowed_actions": {"type": "array", "items": {"type": "string"}, "description": "Possible now (409)."},
                "current_etag": {"type": "string", "description": "The current version, for If-Match (412)."},
            },
        }


class EnvelopeFormat:
    """A generic JSON envelope: ``{"error": {"code", "status", "message", "details"}}``."""

    name = "envelope"
    media_type = "application/json"

    def render(self, error: ApiError, now: datetime) -> dict[str, Any]:
        return {
            "error": {
                "code": error.code,
                "status": error.status,
                "message": error.detail,
                "details": error.extra or None,
            }
        }

    def schema(self, status: int | None = None) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "status", "message", "details"],
                    "properties": {
                        "code": {"type": "string"},
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                        "details": {"type": ["object", "null"]},
                    },
                }
            },
        }


PLACEHOLDERS = {"status", "title", "detail", "code", "type", "trace_id", "timestamp"}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class TemplateFormat:
    """A body shaped by a template from config; strings hold ``{status}``-style placeholders.

    A string that is exactly ``"{status}"`` becomes the integer status; any other string has
    its placeholders replaced by text. ``{timestamp}`` is the server clock's time as
    ``YYYY-MM-DD HH:MM:SS`` (UTC), ``{trace_id}`` a fresh random UUID.
    """

    def __init__(self, name: str, media_type: str, template: Any) -> None:
        unknown = sorted(set(_placeholders_in(template)) - PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"error format {name!r}: unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
                f"known: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
            )
        if not isinstance(template, Mapping):
            raise ValueError(f"error format {name!r}: body must be a mapping (a JSON object)")
        self.name = name
        self.media_type = media_type
        self._template = copy.deepcopy(dict(template))

    def render(self, error: ApiError, now: datetime) -> dict[str, Any]:
        values = {
            "status": error.status,
            "title": error.title,
            "detail": error.detail,
            "code": error.code,
            "type": PROBLEM_TYPE_PREFIX + error.code,
            "trace_id": str(uuid.uuid4()),
            "timestamp": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        return {key: _fill(value, values) for key, value in self._template.items()}

    def schema(self, status: int | None = None) -> dict[str, Any]:
        return _schema_of(self._template)


def _placeholders_in(template: Any) -> list[str]:
    if isinstance(template, str):
        return _PLACEHOLDER.findall(template)
    if isinstance(template, Mapping):
        return [name for value in template.values() for name in _placeholders_in(value)]
    if isinstance(template, list):
        return [name for value in template for name in _placeholders_in(value)]
    return []


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        if template == "{status}":
            return values["status"]
        return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)
    if isinstance(template, Mapping):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    return template


def _schema_of(template: Any) -> dict[str, Any]:
    if template == "{status}":
        return {"type": "integer"}
    if isinstance(template, str):
        return {"type": "string"} if _PLACEHOLDER.search(template) else {"const": template}
    if isinstance(template, Mapping):
        return {
            "type": "object",
            "required": list(template),
            "properties": {key: _schema_of(value) for key, value in template.items()},
        }
    if isinstance(template, list):
        return {"type": "array"}
    return {"const": template}


class ByStatusFormat:
    """A vendor whose error body differs by status: one template per status (``"404"``), per
    class (``"5xx"``) and a ``"default"``."""

    def __init__(self, name: str, media_type: str, templates: Mapping[str, Any]) -> None:
        self.name = name
        self.media_type = media_type
        self._formats = {key: TemplateFormat(name, media_type, body) for key, body in templates.items()}
        if "default" not in self._formats:
            raise ValueError(f"error format {name!r}: a 'default' template is needed")

    def _for(self, status: int) -> TemplateFormat:
        return self._formats.get(str(status)) or self._formats.get(f"{str(status)[0]}xx") or self._formats["default"]

    def render(self, error: ApiError, now: datetime) -> dict[str, Any]:
        return self._for(error.status).render(error, now)

    def schema(self, status: int | None = None) -> dict[str, Any]:
        """The body for ``status`` alone; only a schema for any status lists every shape."""
        if status is not None:
            return self._for(status).schema()
        return {"anyOf": [each.schema() for each in self._formats.values()]}


OCAMBA = TemplateFormat(
    "ocamba",
    "application/json",
    {"code": "{status}", "title": "{title}.", "message": "{detail}", "trace_id": "{trace_id}"},
)
WOODPECKER = ByStatusFormat(
    "woodpecker",
    "application/json",
    {
        "default": {"title": "{title}", "status": "{status}", "detail": "{detail}", "timestamp": "{timestamp}"},
        "401": {"title": "{title}", "status": "{status}", "detail": "Invalid api key", "timestamp": "{timestamp}"},
        "404": {"code": "CAMPAIGN_NOT_EXIST", "message": "Campaign not found", "details": None},
        "5xx": {"type": "UNKNOWN", "message": "{detail}", "details": None},
    },
)
TENANT = TemplateFormat(
    "tenant", "application/json", {"success": False, "error": {"code": "{code}", "message": "{detail}"}}
)
ALTCRAFT = TemplateFormat("altcraft", "application/json", {"data": None, "error": "{status}", "error_text": "{detail}"})

BUILT_IN: dict[str, ErrorFormat] = {
    fmt.name: fmt for fmt in (ProblemFormat(), EnvelopeFormat(), OCAMBA, WOODPECKER, TENANT, ALTCRAFT)
}


def error_format_names(custom: Mapping[str, ErrorFormat]) -> list[str]:
    return sorted({*BUILT_IN, *custom})


def select_error_format(name: str, custom: Mapping[str, ErrorFormat]) -> ErrorFormat:
    """The format called ``name``; ValueError lists the names that exist."""
    if name in custom:
        return custom[name]
    if name in BUILT_IN:
        return BUILT_IN[name]
    raise ValueError(f"unknown error format {name!r}; known: {', '.join(error_format_names(custom))}")

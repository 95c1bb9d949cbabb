"""Named error formats: how an ``ApiError`` is written on the wire.

``problem`` (RFC 9457) and ``envelope`` are built in; every other shape is data
(``contract.error_formats``): a spec's ``x-error-format``/``x-error-formats``, a bundled
profile's format (``--error-format ocamba``) or a config file's ``error_formats``, rendered
here by ``TemplateFormat``/``ByStatusFormat``. Each format also states its JSON schema, so the
served spec can document what the server really sends after it was reconfigured.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from campaign_mock.contract import error_formats as data
from campaign_mock.contract.errors import ContractError
from campaign_mock.server.domain.errors import ApiError

PROBLEM_TYPE_PREFIX = "urn:campaign-mock:problem:"


class ErrorFormat(Protocol):
    name: str
    media_type: str

    @property
    def declaration(self) -> str | Mapping[str, Any]:
        """What the served spec's ``x-error-format`` states for this format."""
        ...

    def render(self, error: ApiError, now: datetime) -> dict[str, Any]: ...

    def schema(self, status: int | None = None) -> dict[str, Any]:
        """The JSON schema of the body written for ``status`` (None: for any status)."""
        ...


class ProblemFormat:
    """RFC 9457 problem details plus the error's helpful members (``errors``, ...)."""

    name = declaration = "problem"
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

    name = declaration = "envelope"
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


PLACEHOLDERS = data.PLACEHOLDERS
_PLACEHOLDER = data.PLACEHOLDER


class TemplateFormat:
    """A body shaped by a template; strings hold ``{status}``-style placeholders.

    A string that is exactly ``"{status}"`` becomes the integer status (exactly ``"{code}"``: the
    vendor's code as given, an integer too); any other string has its placeholders replaced by
    text. ``{code}`` is the vendor's code for the error's kind (``codes``), else the kind itself;
    ``{field}`` the input the error is about (null, alone in a string, when none is);
    ``{timestamp}`` is the server clock's time as ``YYYY-MM-DD HH:MM:SS`` (UTC), ``{trace_id}`` a
    fresh random UUID.
    """

    def __init__(
        self,
        name: str,
        media_type: str,
        template: Any,
        codes: Mapping[str, str | int] | None = None,
        declaration: str | Mapping[str, Any] | None = None,
    ) -> None:
        for _, message in data.problems({"media_type": media_type, "body": template, "codes": codes or {}}, ()):
            raise ValueError(f"error format {name!r}: {message}")
        self.name = name
        self.media_type = media_type
        self.declaration = name if declaration is None else declaration
        self._template = copy.deepcopy(dict(template))
        self._codes = dict(codes or {})

    def render(self, error: ApiError, now: datetime) -> dict[str, Any]:
        values = {
            "status": error.status,
            "title": error.title,
            "detail": error.detail,
            "code": self._codes.get(error.code, error.code),
            "type": PROBLEM_TYPE_PREFIX + error.code,
            "trace_id": str(uuid.uuid4()),
            "timestamp": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "field": _first_field(error),
        }
        return {key: _fill(value, values) for key, value in self._template.items()}

    def schema(self, status: int | None = None) -> dict[str, Any]:
        code: dict[str, Any] = (
            {"type": ["string", "integer"]}
            if any(isinstance(code, int) for code in self._codes.values())
            else {"type": "string"}
        )
        return _schema_of(self._template, code)


EXACT = ("{status}", "{code}", "{field}")
"""Placeholders that, alone in a string, keep their value's type (an integer, or null)."""


def _first_field(error: ApiError) -> str | None:
    """The input the error is about (the first of its ``errors``), for SendGrid's ``field``."""
    errors = error.extra.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
    name = first.get("name") or first.get("pointer")
    return str(name) if name else None


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        if template in EXACT:
            return values[template[1:-1]]
        return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)] or ""), template)
    if isinstance(template, Mapping):
        return {key: _fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, values) for value in template]
    return template


def _schema_of(template: Any, code: Mapping[str, Any]) -> dict[str, Any]:
    if template == "{status}":
        return {"type": "integer"}
    if template == "{code}":
        return dict(code)
    if template == "{field}":
        return {"type": ["string", "null"]}
    if isinstance(template, str):
        return {"type": "string"} if _PLACEHOLDER.search(template) else {"const": template}
    if isinstance(template, Mapping):
        return {
            "type": "object",
            "required": list(template),
            "properties": {key: _schema_of(value, code) for key, value in template.items()},
        }
    if isinstance(template, list):
        return {"type": "array"}
    return {"const": template}


class ByStatusFormat:
    """A vendor whose error body differs by status: one template per status (``"404"``), per
    class (``"5xx"``) and a ``"default"``."""

    def __init__(
        self,
        name: str,
        media_type: str,
        templates: Mapping[str, Any],
        codes: Mapping[str, str | int] | None = None,
        declaration: str | Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.media_type = media_type
        self.declaration = name if declaration is None else declaration
        self._formats = {key: TemplateFormat(name, media_type, body, codes) for key, body in templates.items()}
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


def _built(selected: data.Selected) -> ErrorFormat:
    definition = selected.definition
    if definition is None:
        return ProblemFormat() if selected.name == "problem" else EnvelopeFormat()
    if definition.by_status:
        return ByStatusFormat(
            definition.name, definition.media_type, definition.templates, definition.codes, selected.declaration
        )
    return TemplateFormat(
        definition.name, definition.media_type, definition.templates["default"], definition.codes, selected.declaration
    )


def spec_error_format(document: Mapping[str, Any]) -> ErrorFormat:
    """The format the spec documents (its ``x-error-format``); ValueError when it cannot be used."""
    return resolve_error_format(None, {}, document)


def resolve_error_format(name: str | None, custom: Mapping[str, Any], document: Mapping[str, Any]) -> ErrorFormat:
    """The format called ``name`` (config's ``custom`` first), else the spec's own; ValueError
    names the problem (an unknown name lists the known ones)."""
    try:
        selected = data.spec_format(document, custom) if name is None else data.select(name, document, custom)
    except ContractError as exc:
        raise ValueError(str(exc)) from exc
    return _built(selected)


def error_format_names(document: Mapping[str, Any], custom: Mapping[str, Any]) -> list[str]:
    return data.known_names(document, custom)

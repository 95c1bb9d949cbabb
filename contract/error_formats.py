"""Error formats as data: how a vendor writes its error bodies, read from the contract.

A vendor's error body is part of its contract, so it is written in the spec (``x-error-format``
at the root, or a named entry of ``x-error-formats``) rather than in Python:

    x-error-format:
      media_type: application/json
      body: {code: "{code}", message: "{detail}"}        # one shape for every status
      codes: {not-found: document_not_found}              # the mock's kinds -> the vendor's codes

or ``by_status: {"404": {...}, "5xx": {...}, "default": {...}}`` instead of ``body``. A name
(``problem``, ``envelope``, a name from ``x-error-formats``, or a bundled profile's name such as
``ocamba``) picks a format defined elsewhere. A config file's ``error_formats`` use the same
syntax. The server renders these definitions and the linter checks them; the kit may read them
too, which is why this module lives in ``contract/`` and knows nothing of HTTP.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.operations import HTTP_METHODS, resolve
from campaign_mock.contract.specs import CANONICAL_NAME, bundled_names, bundled_path

FORMAT_KEY = "x-error-format"
FORMATS_KEY = "x-error-formats"
BUILT_IN = ("problem", "envelope")  # generic shapes with members no template can state (the error's extras)
BUILT_IN_MEDIA_TYPES = {"problem": "application/problem+json", "envelope": "application/json"}
DEFAULT_NAME = "problem"

# The mock's error kinds: the ``code`` of every ApiError it raises (server/domain/errors.py and the
# few beside it). ``codes`` maps these to a vendor's own; tests/test_error_formats_in_spec.py keeps
# the list in step with the server's classes.
KINDS = frozenset(
    {
        "bad-request",
        "invalid-parameter",
        "malformed-body",
        "validation-failed",
        "unauthorized",
        "forbidden",
        "not-found",
        "method-not-allowed",
        "conflict",
        "state-conflict",
        "invalid-transition",
        "action-refused",
        "precondition-failed",
        "request-timeout",
        "payload-too-large",
        "uri-too-long",
        "headers-too-large",
        "unsupported-media-type",
        "rate-limited",
        "injected-fault",
        "insufficient-storage",
        "store-full",
        "store-unavailable",
        "store-state-lost",
        "store-outcome-unknown",
        "internal-error",
        "host-not-allowed",
        "cross-site-request",
    }
)
PLACEHOLDERS = frozenset({"status", "title", "detail", "code", "type", "trace_id", "timestamp", "field"})
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_STATUS_KEY = re.compile(r"^(?:[1-5]\d\d|[1-5]xx|default)$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/(?:json|[a-z0-9!#$&^_.+-]*\+json)$")
_KEYS = frozenset({"name", "media_type", "content_type", "body", "by_status", "codes"})

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class FormatDefinition:
    """One error format as data. ``templates`` always holds ``default``; a plain ``body`` is
    the default alone, ``by_status`` adds ``"404"``-style and ``"5xx"``-style entries."""

    name: str
    media_type: str
    templates: Mapping[str, Any]
    codes: Mapping[str, str | int] = field(default_factory=dict)
    by_status: bool = False

    def template_for(self, status: int) -> Any:
        """The body template for ``status``: its own, its class's (``5xx``), else the default."""
        return self.templates.get(str(status)) or self.templates.get(f"{str(status)[0]}xx") or self.templates["default"]

    def declaration(self) -> dict[str, Any]:
        """The definition in the spec's syntax (what a served spec states for a config format)."""
        shape: dict[str, Any] = {"media_type": self.media_type}
        if self.by_status:
            shape["by_status"] = dict(self.templates)
        else:
            shape["body"] = self.templates["default"]
        if self.codes:
            shape["codes"] = dict(self.codes)
        return shape


def placeholders_in(template: Any) -> Iterator[str]:
    if isinstance(template, str):
        yield from PLACEHOLDER.findall(template)
    elif isinstance(template, Mapping):
        for value in template.values():
            yield from placeholders_in(value)
    elif isinstance(template, list):
        for value in template:
            yield from placeholders_in(value)


def problems(raw: Any, where: Path) -> Iterator[tuple[Path, str]]:
    """What is wrong with one format definition (a mapping), each with its place."""
    if not isinstance(raw, Mapping):
        yield where, "expected a format name or a mapping {media_type, body | by_status, codes}"
        return
    for key in raw:
        if key not in _KEYS:
            yield (*where, key), f"unknown key {key!r}; known: media_type, body, by_status, codes, name"
    media_type = raw.get("media_type", raw.get("content_type", "application/json"))
    if not isinstance(media_type, str) or not _MEDIA_TYPE.match(media_type):
        yield (
            (*where, "media_type" if "media_type" in raw else "content_type"),
            (f"media type {media_type!r} is not a JSON media type (application/json, or type/name+json)"),
        )
    if ("body" in raw) == ("by_status" in raw):
        yield where, "give exactly one of body (one shape) or by_status (a shape per status)"
    templates: dict[str, Any] = {}
    if "body" in raw:
        templates["default"] = raw["body"]
        yield from _template_problems(raw["body"], (*where, "body"))
    elif isinstance(raw.get("by_status"), Mapping):
        for key, body in raw["by_status"].items():
            place: Path = (*where, "by_status", key)
            if not _STATUS_KEY.match(str(key)):
                yield place, f'{key!r} is no status key: use a status ("404"), a class ("5xx") or default'
            templates[str(key)] = body
            yield from _template_problems(body, place)
        if "default" not in templates:
            yield (*where, "by_status"), "by_status needs a default shape (for the statuses not listed)"
    elif "by_status" in raw:
        yield (*where, "by_status"), "by_status must map statuses to body shapes"
    yield from _code_problems(raw.get("codes", {}), (*where, "codes"))


def _template_problems(body: Any, where: Path) -> Iterator[tuple[Path, str]]:
    if not isinstance(body, Mapping):
        yield where, "an error body must be a mapping (a JSON object)"
        return
    unknown = sorted(set(placeholders_in(body)) - PLACEHOLDERS)
    if unknown:
        yield (
            where,
            (
                f"unknown placeholder(s) {', '.join('{' + name + '}' for name in unknown)}; "
                f"known: {', '.join('{' + name + '}' for name in sorted(PLACEHOLDERS))}"
            ),
        )


def _code_problems(codes: Any, where: Path) -> Iterator[tuple[Path, str]]:
    if not isinstance(codes, Mapping):
        yield where, "codes must map the mock's error kinds to the vendor's codes"
        return
    for kind, code in codes.items():
        if kind not in KINDS:
            yield (*where, kind), f"{kind!r} is not one of the mock's error kinds ({', '.join(sorted(KINDS))})"
        if not isinstance(code, str | int) or isinstance(code, bool):
            yield (*where, kind), f"the code for {kind!r} must be a string or an integer"


def parse_format(name: str, raw: Any, where: Path = (FORMAT_KEY,)) -> FormatDefinition:
    """A checked definition; ContractError (``x-error-format.body: ...``) names the first problem."""
    for place, message in problems(raw, where):
        raise ContractError(f"{'.'.join(str(part) for part in place)}: {message}")
    templates = {"default": raw["body"]} if "body" in raw else {str(k): v for k, v in raw["by_status"].items()}
    return FormatDefinition(
        name=str(raw.get("name", name)),
        media_type=str(raw.get("media_type", raw.get("content_type", "application/json"))),
        templates=templates,
        codes=dict(raw.get("codes") or {}),
        by_status="by_status" in raw,
    )


def defined_formats(document: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's own named formats (``x-error-formats``), as written."""
    named = document.get(FORMATS_KEY)
    return dict(named) if isinstance(named, Mapping) else {}


@functools.lru_cache(maxsize=16)
def _bundled_raw(name: str) -> Any:
    """A bundled profile's own x-error-format, when it defines one (read once)."""
    if name == CANONICAL_NAME or name not in bundled_names():
        return None
    document = yaml.load(bundled_path(name).read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (a safe loader)
    if not isinstance(document, Mapping):
        return None
    raw = document.get(FORMAT_KEY)
    if isinstance(raw, str):
        return defined_formats(document).get(raw)
    return raw if isinstance(raw, Mapping) else None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def bundled_format(name: str) -> FormatDefinition | None:
    """The format a bundled profile defines, known by the profile's name (``ocamba``)."""
    raw = _bundled_raw(name)
    return None if raw is None else parse_format(name, raw, ("profiles", name, FORMAT_KEY))


def known_names(document: Mapping[str, Any], custom: Mapping[str, Any] = {}) -> list[str]:
    bundled = [name for name in bundled_names() if _bundled_raw(name) is not None]
    return sorted({*BUILT_IN, *bundled, *defined_formats(document), *custom})


@dataclass(frozen=True)
class Selected:
    """A chosen format: a built-in shape (no ``definition``) or a definition, and what the served
    spec's ``x-error-format`` states for it: its name where the spec can find it by name, else
    the definition itself (a config file's format, or the spec's own inline one as written)."""

    name: str
    definition: FormatDefinition | None = None
    declaration: str | Mapping[str, Any] = ""

    def __post_init__(self) -> None:
        if not self.declaration:
            object.__setattr__(self, "declaration", self.name)


def select(name: str, document: Mapping[str, Any], custom: Mapping[str, Any] = {}) -> Selected:
    """The format called ``name``: config's first, then the spec's, the built-ins, the bundled
    profiles'. ContractError lists the names that exist."""
    if name in custom:
        definition = parse_format(name, custom[name], ("error_formats", name))
        return Selected(name, definition, definition.declaration())
    spec_formats = defined_formats(document)
    if name in spec_formats:
        return Selected(name, parse_format(name, spec_formats[name], (FORMATS_KEY, name)))
    if name in BUILT_IN:
        return Selected(name)
    bundled = bundled_format(name)
    if bundled is not None:
        return Selected(name, bundled)
    raise ContractError(f"unknown error format {name!r}; known: {', '.join(known_names(document, custom))}")


def spec_format(document: Mapping[str, Any], custom: Mapping[str, Any] = {}) -> Selected:
    """The format the spec itself documents (``x-error-format``; problem when it says none)."""
    raw = document.get(FORMAT_KEY, DEFAULT_NAME)
    if isinstance(raw, str):
        return select(raw, document, custom)
    definition = parse_format("custom", raw)
    return Selected(definition.name, definition, dict(raw))


def lint_problems(document: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Every problem of the spec's error formats, for ``campaign-mock lint`` (rule error-format)."""
    named = document.get(FORMATS_KEY)
    if named is not None and not isinstance(named, Mapping):
        yield (FORMATS_KEY,), "x-error-formats must map format names to definitions"
    for name, raw in defined_formats(document).items():
        if name in BUILT_IN:
            yield (FORMATS_KEY, name), f"{name!r} is a built-in format's name; choose another"
        yield from problems(raw, (FORMATS_KEY, name))
    if FORMAT_KEY not in document:
        return
    raw = document[FORMAT_KEY]
    if not isinstance(raw, str):
        found = list(problems(raw, (FORMAT_KEY,)))
        if isinstance(raw, Mapping) and "name" in raw and not isinstance(raw["name"], str):
            found.append(((FORMAT_KEY, "name"), "name must be a text"))
        yield from found
        if found:
            return
    elif raw not in BUILT_IN and raw not in defined_formats(document) and _bundled_raw(raw) is None:
        known = ", ".join(known_names(document))
        yield (FORMAT_KEY,), f"unknown error format {raw!r}; known: {known}, or define one here (see x-error-formats)"
        return
    yield from _undocumented_media_type(document)


def _undocumented_media_type(document: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """An error response whose content lacks the format's media type documents a body the
    server never sends (the served spec is the spec as written when its own format is used)."""
    try:
        selected = spec_format(document)
    except ContractError:
        return
    media_type = selected.definition.media_type if selected.definition else BUILT_IN_MEDIA_TYPES[selected.name]
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            responses = operation.get("responses") if isinstance(operation, Mapping) else None
            for status, response in (responses or {}).items() if isinstance(responses, Mapping) else ():
                if str(status)[:1] not in ("4", "5"):
                    continue
                try:
                    target, _ = resolve(document, response, "")
                except ContractError:
                    continue
                content = target.get("content") if isinstance(target, Mapping) else None
                if isinstance(content, Mapping) and content and media_type not in content:
                    yield (
                        ("paths", path, method, "responses", status),
                        (
                            f"{method.upper()} {path} documents its {status} as {', '.join(content)}, "
                            f"but the error format ({selected.name}) sends {media_type}"
                        ),
                    )

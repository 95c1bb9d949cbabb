"""Finding and reading contracts: a file path, a bundled name, or a URL.

Bundled contracts live in the repository's ``openapi/`` folder; a wheel carries the same
files inside this package (see pyproject.toml), so both layouts are searched.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from campaign_mock.contract.errors import ContractError

_PACKAGE_DIR = Path(__file__).resolve().parent
CANONICAL_NAME = "campaigns"


def bundled_dir() -> Path:
    """The folder holding the bundled specs, in a wheel or in a source checkout."""
    for candidate in (_PACKAGE_DIR / "openapi", _PACKAGE_DIR.parent / "openapi"):
        if (candidate / f"{CANONICAL_NAME}.yaml").is_file():
            return candidate
    raise ContractError(f"bundled specs not found next to {_PACKAGE_DIR}; is the installation complete?")


def bundled_names() -> list[str]:
    """Names accepted by ``--spec NAME``: the canonical API and every vendor profile."""
    folder = bundled_dir()
    return [CANONICAL_NAME, *sorted(path.stem for path in (folder / "profiles").glob("*.yaml"))]


def bundled_path(name: str) -> Path:
    folder = bundled_dir()
    if name == CANONICAL_NAME:
        return folder / f"{CANONICAL_NAME}.yaml"
    path = folder / "profiles" / f"{name}.yaml"
    if not path.is_file():
        raise ContractError(f"unknown spec name {name!r}; bundled names: {', '.join(bundled_names())}")
    return path


@dataclass(frozen=True)
class SpecSource:
    """A contract's text and where it came from (for messages)."""

    origin: str
    text: str


def read_source(reference: str, timeout: float = 10.0) -> SpecSource:
    """Read a spec by URL, path or bundled name, in that order of recognition."""
    if reference.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(reference, timeout=timeout) as answer:  # noqa: S310 (scheme checked above)
                return SpecSource(reference, answer.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, UnicodeDecodeError) as exc:
            raise ContractError(f"{reference}: cannot fetch the spec: {exc}") from exc
    path = Path(reference)
    if not path.exists() and "/" not in reference and not reference.endswith((".yaml", ".yml", ".json")):
        path = bundled_path(reference)
    try:
        return SpecSource(str(path), path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ContractError(f"{reference}: no such file (bundled spec names: {', '.join(bundled_names())})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{reference}: cannot read the spec: {exc}") from exc


def parse_document(source: SpecSource) -> dict[str, Any]:
    """Parse YAML or JSON into a mapping; errors carry ``file:line:col``."""
    try:
        document = yaml.safe_load(source.text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source.origin}:{mark.line + 1}:{mark.column + 1}" if mark else source.origin
        raise ContractError(f"{where}: invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ContractError(f"{source.origin}: invalid YAML: {exc}") from exc
    if not isinstance(document, dict) or "openapi" not in document:
        raise ContractError(f"{source.origin}: not an OpenAPI document (no top-level 'openapi' key)")
    version = str(document["openapi"])
    if not version.startswith("3.1"):
        raise ContractError(f"{source.origin}: OpenAPI {version} given; campaign-mock reads OpenAPI 3.1")
    return document


def validate_openapi(document: dict[str, Any], origin: str) -> None:
    """Run the reference OpenAPI validator; the first error becomes one clear line."""
    try:
        validate(document)
    except OpenAPIValidationError as exc:
        path = ".".join(str(part) for part in getattr(exc, "absolute_path", []) or [])
        reason = str(exc.message).strip().splitlines()[0]
        raise ContractError(f"{origin}: invalid OpenAPI at {path or 'top level'}: {reason}") from exc

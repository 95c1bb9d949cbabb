"""Serve settings: defaults < config file < environment < command-line flags.

Each setting is declared once (``SETTINGS``) with its type, default and help, and that
one table drives the YAML keys, the ``CAMPAIGN_MOCK_*`` variables and ``--help``. Errors
name the file, line and column, and what would be accepted instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ENV_PREFIX = "CAMPAIGN_MOCK_"
DEMO_API_KEY = "demo-key"


class ConfigError(Exception):
    """A setting that cannot be used; the message is one line for the user."""


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high}, got {value!r}")
        return value

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value.strip()


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ValueError(f"expected true or false, got {value!r}")


def _keys(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(key, str) and key.strip() for key in value):
        raise ValueError(f"expected a list of non-empty keys, got {value!r}")
    return [key.strip() for key in value]


def _formats(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise ValueError("expected a mapping of format name -> {content_type, body}")
    checked = {}
    for name, definition in value.items():
        if not isinstance(definition, Mapping) or not isinstance(definition.get("body"), Mapping):
            raise ValueError(f"format {name!r}: expected {{content_type: TYPE, body: {{...template...}}}}")
        checked[str(name)] = {
            "content_type": str(definition.get("content_type", "application/json")),
            "body": dict(definition["body"]),
        }
    return checked


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    env: bool = True


SETTINGS: tuple[Setting, ...] = (
    Setting("spec", _text, "campaigns", "spec to serve: a file path, a bundled name (campaigns, ...) or a URL"),
    Setting("host", _text, "127.0.0.1", "address to listen on"),
    Setting("port", _integer(0, 65535), 8080, "port to listen on; 0 picks a free one"),
    Setting("api_keys", _keys, [], f"accepted API keys; none given means the demo key {DEMO_API_KEY!r}"),
    Setting("error_format", _text, None, "error format: problem (RFC 9457), envelope, or a name from error_formats"),
    Setting("error_formats", _formats, {}, "custom error formats: name -> {content_type, body template}", env=False),
    Setting("threads", _integer(1, 256), 4, "waitress worker threads"),
    Setting("max_body_bytes", _integer(1, 1 << 30), 1024 * 1024, "largest request body accepted (413 above)"),
    Setting("log_requests", _flag, True, "log one line per request (method, path, status, ms)"),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True)
class ServeSettings:
    spec: str = "campaigns"
    host: str = "127.0.0.1"
    port: int = 8080
    api_keys: list[str] = field(default_factory=list)
    error_format: str | None = None
    error_formats: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: int = 4
    max_body_bytes: int = 1024 * 1024
    log_requests: bool = True

    def effective_keys(self) -> list[str]:
        return self.api_keys or [DEMO_API_KEY]


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


def _positions(text: str) -> dict[str, str]:
    """``line:col`` of each top-level key's value, for messages."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(key.value): f"{value.start_mark.line + 1}:{value.start_mark.column + 1}"
        for key, value in node.value
        if isinstance(key, yaml.ScalarNode)
    }


def read_config_file(path: str) -> dict[str, Any]:
    """The checked settings of a YAML config file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    positions = _positions(text)
    checked = {}
    for key, value in raw.items():
        where = f"{path}:{positions.get(str(key), '1:1')}"
        setting = BY_KEY.get(str(key))
        if setting is None:
            raise ConfigError(f"{where}: unknown setting {key!r}; known: {', '.join(BY_KEY)}")
        try:
            checked[setting.key] = setting.parse(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {key}: {exc}") from exc
    return checked


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    checked = {}
    for setting in SETTINGS:
        name = env_name(setting.key)
        if setting.env and name in environ:
            try:
                checked[setting.key] = setting.parse(environ[name])
            except ValueError as exc:
                raise ConfigError(f"environment variable {name}: {exc}") from exc
    return checked


def resolve_settings(config_path: str | None, environ: Mapping[str, str], flags: Mapping[str, Any]) -> ServeSettings:
    """Merge the layers; ``flags`` holds only what was given on the command line."""
    merged: dict[str, Any] = {}
    if config_path:
        merged.update(read_config_file(config_path))
    merged.update(read_environment(environ))
    for key, value in flags.items():
        try:
            merged[key] = BY_KEY[key].parse(value)
        except ValueError as exc:
            raise ConfigError(f"--{key.replace('_', '-')}: {exc}") from exc
    return ServeSettings(**merged)

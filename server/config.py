"""Serve settings: defaults < config file < environment < command-line flags.

Each setting is declared once (``SETTINGS``) with its type, default and help, and that
one table drives the YAML keys, the ``CAMPAIGN_MOCK_*`` variables and ``--help``. Errors
name the file, line and column, and what would be accepted instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from campaign_mock.contract.timefmt import parse_timestamp
from campaign_mock.server.clock import check_in_range
from campaign_mock.server.faults import parse_rule
from campaign_mock.server.ratelimit import ALGORITHMS, parse_windows

ENV_PREFIX = "CAMPAIGN_MOCK_"
DEMO_API_KEY = "demo-key"
WAITRESS_THREADS = 4
GRANIAN_THREADS = 1  # bench: p99 2.7 ms at 1 thread, 0.4-1.2 s at 2-4 (they queue unfairly for the GIL)


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


def _one_worker(value: Any) -> int:
    """Only 1: several processes would each keep their own campaigns, counters and clock."""
    count = _integer(1, 1_000)(value)
    if count != 1:
        raise ValueError(
            f"{count} workers refused: campaigns, rate-limit counters and the clock live in this process's "
            "memory, so each worker would answer from its own copy; run one worker (use --threads for more "
            "concurrency), or several mocks on several ports"
        )
    return count


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


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
        return str(value)

    return check


def _windows(value: Any) -> str:
    text = ",".join(value) if isinstance(value, list) else value
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"expected windows like '10/s,150/min' (or 'off'), got {value!r}")
    if text.strip().lower() not in ("off", "none"):
        parse_windows(text)
    return text.strip()


def _timestamp(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else value
    moment = parse_timestamp(text) if isinstance(text, str) else None
    if moment is None:
        raise ValueError(f"expected an RFC 3339 date-time like 2026-12-01T09:00:00Z, got {value!r}")
    check_in_range(moment)
    return str(text)


def _seconds(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not 0 <= number <= 3600:
        raise ValueError(f"expected seconds from 0 to 3600, got {value!r}")
    return number


def _fault_list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValueError("expected a list of faults like [{operation: getCampaign, error_rate: 0.5}]")
    for index, raw in enumerate(value):
        try:
            parse_rule(raw)
        except ValueError as exc:
            raise ValueError(f"faults[{index}]: {exc}") from exc
    return [dict(raw) for raw in value]


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else _text(value)


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
    Setting(
        "spec",
        _text,
        "campaigns",
        "spec to serve: a file path, a URL, or a bundled name: campaigns, altcraft, ocamba, sevenheaven, tenant, "
        "woodpecker",
    ),
    Setting("host", _text, "127.0.0.1", "address to listen on"),
    Setting("port", _integer(0, 65535), 8080, "port to listen on; 0 picks a free one"),
    Setting(
        "api_keys",
        _keys,
        [],
        f"accepted API keys, KEY or KEY@WORKSPACE; none given: the spec's demo keys or {DEMO_API_KEY!r}",
    ),
    Setting(
        "error_format",
        _text,
        None,
        "error format: problem (RFC 9457), envelope, ocamba, woodpecker, tenant, altcraft, or from error_formats",
    ),
    Setting("error_formats", _formats, {}, "custom error formats: name -> {content_type, body template}", env=False),
    Setting(
        "server",
        _choice("waitress", "granian"),
        "waitress",
        "HTTP server: waitress (pure Python, the default) or granian (Rust, faster; pip install 'campaign-mock[fast]')",
    ),
    Setting(
        "workers",
        _one_worker,
        1,
        "server processes; only 1, since campaigns live in this process's memory (others would not see them)",
    ),
    Setting(
        "threads",
        _integer(1, 256),
        None,
        "threads that run requests (default: 4 under waitress, 1 under granian: more only queue for the GIL; "
        "raise it where requests wait, e.g. latency faults)",
    ),
    Setting("max_body_bytes", _integer(1, 1 << 30), 1024 * 1024, "largest request body accepted (413 above)"),
    Setting("log_requests", _flag, True, "log one line per request (method, path, status, ms)"),
    Setting("max_header_bytes", _integer(1024, 1 << 20), 16 * 1024, "largest request headers accepted (431 above)"),
    Setting("max_query_bytes", _integer(256, 1 << 20), 8 * 1024, "longest query string accepted (414 above)"),
    Setting("max_json_depth", _integer(2, 512), 32, "deepest nesting of arrays and objects in a body (400 above)"),
    Setting("rate_limit", _windows, None, "rate-limit windows, e.g. 10/s,150/min ('off': none); default: the spec's"),
    Setting(
        "rate_limit_scope",
        _choice("key", "operation", "global"),
        None,
        "count per key, per key and operation, or globally",
    ),
    Setting("rate_limit_algorithm", _choice(*ALGORITHMS), None, "how windows count"),
    Setting(
        "rate_limit_headers",
        _choice("ietf", "legacy", "none"),
        None,
        "RateLimit-* (ietf), X-RateLimit-* (legacy) or none",
    ),
    Setting("concurrency_limit", _integer(0, 10_000), None, "requests processed at once per bucket (0: no limit)"),
    Setting("concurrency_queue", _integer(0, 100_000), 0, "requests that may wait for a slot; more get 429"),
    Setting("concurrency_wait", _seconds, 0.0, "seconds a queued request waits before it gets 429"),
    Setting("admin", _flag, True, "serve the admin API under /__admin"),
    Setting("admin_key", _optional_text, None, "bearer key the admin API requires (none: open)"),
    Setting("clock_start", _timestamp, None, "start the server's clock at this moment (default: real time)"),
    Setting("freeze_clock", _flag, False, "keep the clock still until the admin API moves it"),
    Setting(
        "faults",
        _fault_list,
        [],
        "faults in force at start: [{operation, latency_ms, latency_max_ms, error_rate, error_status, drop_rate}]",
        env=False,
    ),
    Setting("fault_seed", _integer(0, 2**63 - 1), 0, "seed for random latency, errors and drops"),
    Setting("journal_size", _integer(1, 1_000_000), 1000, "request journal entries kept"),
    Setting(
        "journal_bytes",
        _integer(64 * 1024, 1 << 34),
        16 * 1024 * 1024,
        "bytes the request journal may hold (bodies are kept up to 64 KiB each); the oldest entries go first",
    ),
    Setting(
        "max_campaigns",
        _integer(1, 100_000_000),
        100_000,
        "campaigns the mock holds at most; one more create answers 507 (delete some, or reset)",
    ),
    Setting(
        "max_events",
        _integer(1, 1_000_000),
        1000,
        "events one campaign's history holds at most; one more action or update answers 507",
    ),
    Setting(
        "max_connections",
        _integer(1, 100_000),
        1000,
        "connections served at once (waitress; under granian, requests in progress)",
    ),
    Setting(
        "idle_timeout",
        _seconds,
        30.0,
        "seconds a connection may stay silent (idle between requests, or stalled in one) before it is closed",
    ),
    Setting(
        "body_timeout",
        _seconds,
        10.0,
        "seconds a request body may take to arrive after its headers (granian: 408 and the connection "
        "closed; waitress reads bodies before the app, so there --idle-timeout applies)",
    ),
    Setting("state_file", _optional_text, None, "keep campaigns across restarts in this JSON file (loaded on start)"),
    Setting("state_interval", _seconds, 30.0, "seconds between saves of the state file (0: only on shutdown)"),
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
    server: str = "waitress"
    workers: int = 1
    threads: int | None = None
    max_body_bytes: int = 1024 * 1024
    log_requests: bool = True
    max_header_bytes: int = 16 * 1024
    max_query_bytes: int = 8 * 1024
    max_json_depth: int = 32
    rate_limit: str | None = None
    rate_limit_scope: str | None = None
    rate_limit_algorithm: str | None = None
    rate_limit_headers: str | None = None
    concurrency_limit: int | None = None
    concurrency_queue: int = 0
    concurrency_wait: float = 0.0
    admin: bool = True
    admin_key: str | None = None
    clock_start: str | None = None
    freeze_clock: bool = False
    faults: list[dict[str, Any]] = field(default_factory=list)
    fault_seed: int = 0
    journal_size: int = 1000
    journal_bytes: int = 16 * 1024 * 1024
    max_campaigns: int = 100_000
    max_events: int = 1000
    max_connections: int = 1000
    idle_timeout: float = 30.0
    body_timeout: float = 10.0
    state_file: str | None = None
    state_interval: float = 30.0

    def effective_threads(self) -> int:
        """The request threads: as configured, else what measured best on each server."""
        if self.threads is not None:
            return self.threads
        return GRANIAN_THREADS if self.server == "granian" else WAITRESS_THREADS

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

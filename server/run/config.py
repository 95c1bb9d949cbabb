"""Serve settings: defaults < config file < environment < command-line flags.

Each setting is declared once (``SETTINGS``) with its type, default and help, and that
one table drives the YAML keys, the ``CAMPAIGN_MOCK_*`` variables and ``--help``. Errors
name the file, line and column, and what would be accepted instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from campaign_mock.contract.bounds import Bounded
from campaign_mock.contract.error_formats import problems as format_problems
from campaign_mock.contract.timefmt import parse_timestamp
from campaign_mock.server.domain.clock import check_in_range
from campaign_mock.server.stores.urls import STORE_VALUES, StoreUrl, parse_store_url
from campaign_mock.server.traffic.faults import parse_rule
from campaign_mock.server.traffic.ratelimit import ALGORITHMS, parse_windows

ENV_PREFIX = "CAMPAIGN_MOCK_"
DEMO_API_KEY = "demo-key"
WAITRESS_THREADS = 4
GRANIAN_THREADS = 1  # bench: p99 2.7 ms at 1 thread, 0.4-1.2 s at 2-4 (they queue unfairly for the GIL)


class ConfigError(Exception):
    """A setting that cannot be used; the message is one line for the user."""


def _store(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {STORE_VALUES}, got {value!r}")
    return parse_store_url(value).text


def _namespace(value: Any) -> str:
    if not isinstance(value, str) or not NAMESPACE.fullmatch(value):
        raise ValueError(f"expected 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', got {value!r}")
    return value


NAMESPACE = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


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


def _host_patterns(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(
        isinstance(item, str) and HOST_PATTERN.fullmatch(item.strip()) for item in value
    ):
        raise ValueError(f"expected host names (NAME, .DOMAIN or *), got {value!r}")
    return [item.strip().lower() for item in value]


HOST_PATTERN = re.compile(r"\*|(\*?\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\]", re.ASCII)


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


_seconds = Bounded(0, 3600, whole=False)
_positive_seconds = Bounded(0.1, 3600, whole=False)
_ttl_seconds = Bounded(1, 30 * 86400, whole=False, note="(30 days)")


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
    """Custom error formats, in the spec's syntax (``contract.error_formats``): name ->
    {media_type (or content_type), body | by_status, codes}; checked here, so a bad one is named
    at its line before anything starts."""
    if not isinstance(value, Mapping):
        raise ValueError("expected a mapping of format name -> {media_type, body | by_status, codes}")
    checked = {}
    for name, definition in value.items():
        for place, message in format_problems(definition, (str(name),)):
            raise ValueError(f"{'.'.join(str(part) for part in place)}: {message}")
        checked[str(name)] = dict(definition)
    return checked


@dataclass(frozen=True)
class Setting:
    """One setting: its config key, parser, default and help, and how the command line spells it.

    ``values`` names what may be given (shown in ``--help``; a ``Bounded`` setting's range when
    left out, so no bounded option says just ``N``); ``default_text`` says in words
    what a default of None means; ``switch`` makes the flag a switch that sets that value
    (``--no-admin`` sets ``admin`` to false); ``flag`` None: config file only."""

    key: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    env: bool = True
    values: str = ""
    default_text: str | None = None
    flag: str | None = ""  # "": --key-with-dashes
    switch: Any = None
    repeat: bool = False

    def __post_init__(self) -> None:
        if not self.values and isinstance(self.parse, Bounded):
            object.__setattr__(self, "values", self.parse.range)

    @property
    def option(self) -> str | None:
        if self.flag is None:
            return None
        return self.flag or "--" + self.key.replace("_", "-")

    def shown_default(self) -> str:
        if self.default_text is not None:
            return self.default_text
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return "none" if self.default in (None, [], {}) else str(self.default)


SPEC_NAMES = "campaigns, altcraft, brevo, mailchimp, ocamba, sevenheaven, tenant, woodpecker"
SETTINGS: tuple[Setting, ...] = (
    Setting("spec", _text, "campaigns", "the contract to serve", values=f"PATH, URL, or a bundled name: {SPEC_NAMES}"),
    Setting(
        "lint",
        _choice("error", "warn"),
        "error",
        "a spec that campaign-mock lint rejects: error refuses to serve it (naming the first finding), warn "
        "logs the findings and serves it if it can be read",
        values="error | warn",
    ),
    Setting("host", _text, "127.0.0.1", "address to listen on", values="HOST"),
    Setting("port", Bounded(0, 65535), 8080, "port to listen on; 0 picks a free one (printed)"),
    Setting(
        "api_keys",
        _keys,
        [],
        "accepted API keys, sent where the spec's security scheme says (Authorization: Bearer KEY; HTTP Basic "
        "with the key as the password, curl -u anystring:KEY; an API-key header or query parameter; the start-up "
        "banner shows the curl flags); repeat the flag for several (env and config: a comma-separated list / a "
        "list); the spelling CAMPAIGN_MOCK_API_KEY (one key) is read too",
        values="KEY, KEY@WORKSPACE (specs with x-tenancy), KEY#SCOPE,SCOPE (specs whose operations need scopes)",
        default_text=f"the spec's x-demo-keys, else {DEMO_API_KEY}",
        flag="--api-key",
        repeat=True,
    ),
    Setting(
        "error_format",
        _text,
        None,
        "how error bodies are written",
        values="problem (RFC 9457), envelope, a bundled profile's (ocamba, woodpecker, tenant, altcraft), "
        "or a name from the spec's x-error-formats or the config's error_formats",
        default_text="the spec's x-error-format, else problem",
    ),
    Setting(
        "error_formats",
        _formats,
        {},
        "custom error formats, as in a spec's x-error-formats: name -> {media_type, body | by_status, codes}",
        env=False,
        flag=None,
    ),
    Setting(
        "server",
        _choice("waitress", "granian"),
        "waitress",
        "HTTP server: waitress (pure Python) or granian (Rust, faster; pip install 'campaign-mock[fast]')",
        values="waitress | granian",
    ),
    Setting(
        "workers",
        Bounded(1, 64),
        1,
        "server processes under granian; above 1 needs a shared store (--store redis://...), since with "
        "memory: or sqlite: each process would answer from its own state",
    ),
    Setting(
        "threads",
        Bounded(1, 256),
        None,
        "threads that run requests; under granian more only queue for the GIL, so raise it only where "
        "requests wait (latency faults, concurrency limits)",
        default_text="4 under waitress, 1 under granian",
    ),
    Setting("max_body_bytes", Bounded(1, 1 << 30), 1024 * 1024, "largest request body accepted (413 above)"),
    Setting(
        "log_requests",
        _flag,
        True,
        "one log line per request (method, path, status, ms); --no-request-log turns it off",
        flag="--no-request-log",
        switch=False,
    ),
    Setting(
        "max_header_bytes",
        Bounded(1024, 1 << 20),
        16 * 1024,
        "largest request headers accepted (431 above)",
    ),
    Setting("max_query_bytes", Bounded(256, 1 << 20), 8 * 1024, "longest query string accepted (414 above)"),
    Setting(
        "max_json_depth",
        Bounded(2, 512),
        32,
        "deepest nesting of arrays and objects in a body (400 above)",
    ),
    Setting(
        "rate_limit",
        _windows,
        None,
        "rate-limit windows, all in force at once; off for none",
        values="COUNT/UNIT[,...] like 10/s,150/min, 5/10s, 1000/hour, or off",
        default_text="the spec's x-rate-limit",
    ),
    Setting(
        "rate_limit_scope",
        _choice("key", "operation", "global"),
        None,
        "what one set of windows counts: per API key, per key and operation, or all requests together",
        values="key | operation | global",
        default_text="the spec's, else key",
    ),
    Setting(
        "rate_limit_algorithm",
        _choice(*ALGORITHMS),
        None,
        "how windows count: a fixed window opened by a bucket's first request, or a token bucket refilled evenly",
        values=" | ".join(ALGORITHMS),
        default_text="the spec's, else fixed-window",
    ),
    Setting(
        "rate_limit_headers",
        _choice("ietf", "legacy", "none"),
        None,
        "rate-limit headers on answers: RateLimit-Policy and RateLimit (ietf), X-RateLimit-* (legacy) or none",
        values="ietf | legacy | none",
        default_text="the spec's, else ietf",
    ),
    Setting(
        "concurrency_limit",
        Bounded(0, 10_000),
        None,
        "requests processed at once per bucket; 0 for no limit",
        default_text="the spec's, else none",
    ),
    Setting("concurrency_queue", Bounded(0, 100_000), 0, "requests that may wait for a slot; more get 429"),
    Setting("concurrency_wait", _seconds, 0.0, "seconds a queued request waits before it gets 429"),
    Setting(
        "admin",
        _flag,
        True,
        "serve the admin API under /__admin; --no-admin leaves it out",
        flag="--no-admin",
        switch=False,
        default_text="served",
    ),
    Setting(
        "admin_key",
        _optional_text,
        None,
        "bearer key every admin call must send",
        values="KEY",
        default_text="none: the admin API is open",
    ),
    Setting(
        "clock_start",
        _timestamp,
        None,
        "start the server's clock at this moment",
        values="RFC 3339, e.g. 2026-12-01T09:00:00Z",
        default_text="real time",
    ),
    Setting(
        "freeze_clock",
        _flag,
        False,
        "keep the clock still until the admin API moves it",
        switch=True,
        default_text="running",
    ),
    Setting(
        "faults",
        _fault_list,
        [],
        "faults in force at start: [{operation, latency_ms, latency_max_ms, error_rate, error_status, drop_rate}]",
        env=False,
        flag=None,
    ),
    Setting("fault_seed", Bounded(0, 2**63 - 1), 0, "seed for random latency, errors and drops"),
    Setting("journal_size", Bounded(1, 1_000_000), 1000, "request journal entries kept"),
    Setting(
        "journal_bytes",
        Bounded(64 * 1024, 1 << 34),
        16 * 1024 * 1024,
        "bytes the request journal may hold (bodies are kept up to 64 KiB each); the oldest entries go first",
    ),
    Setting(
        "journal_total_bytes",
        Bounded(64 * 1024, 1 << 36),
        64 * 1024 * 1024,
        "bytes the journals of all sandboxes may hold together: in this process (memory and SQLite stores), or "
        "in the whole namespace across processes (Redis); past it the oldest entries of the journals holding "
        "the most go first",
    ),
    Setting(
        "max_campaigns",
        Bounded(1, 100_000_000),
        100_000,
        "campaigns the mock holds at most; one more create answers 507 (delete some, or reset)",
    ),
    Setting(
        "max_events",
        Bounded(1, 1_000_000),
        1000,
        "events one campaign's history holds at most; one more action or update answers 507",
    ),
    Setting(
        "max_connections",
        Bounded(1, 100_000),
        1000,
        "connections served at once (waitress; under granian, requests in progress)",
    ),
    Setting(
        "idle_timeout",
        _positive_seconds,
        30.0,
        "seconds a connection may stay silent (idle between requests, or stalled in one) before it is closed",
    ),
    Setting(
        "body_timeout",
        _positive_seconds,
        10.0,
        "seconds a request body may take to arrive after its headers (granian: then 408 and the connection "
        "closes; waitress reads bodies before the app, so there --idle-timeout applies)",
    ),
    Setting(
        "header_timeout",
        _positive_seconds,
        10.0,
        "seconds a request's headers may take to arrive whole after their first byte; then the connection "
        "is closed (a client trickling a byte at a time is never idle; granian: its one timer covers this "
        "and the idle time between requests, so the smaller of this and --idle-timeout applies to both)",
    ),
    Setting(
        "sandboxes",
        _choice("auto", "explicit", "off"),
        "auto",
        "sandboxes (/sandboxes/NAME/...: the same contract in a world of its own): auto makes one on first "
        "use, explicit only through PUT /__admin/sandboxes/NAME, off allows none",
        values="auto | explicit | off",
    ),
    Setting(
        "sandbox_ttl",
        _ttl_seconds,
        3600.0,
        "seconds without a request after which a sandbox is dropped",
    ),
    Setting(
        "allowed_hosts",
        _host_patterns,
        [],
        "Host names the mock answers for besides loopback names (localhost, *.localhost) and IP addresses, "
        "which it always answers (others get 403: a guard against DNS rebinding); repeat the flag for several "
        "(env and config: a comma-separated list / a list); .example.com allows a domain and its subdomains, "
        "* any name",
        values="NAME, .DOMAIN, *",
        default_text="loopback names and IP addresses only",
        repeat=True,
    ),
    Setting(
        "max_sandboxes",
        Bounded(1, 100_000),
        1000,
        "sandboxes held at most besides the default one; one more answers 507",
    ),
    Setting(
        "store",
        _store,
        "memory:",
        "where the state is kept: memory: (this process), sqlite:PATH (durable, every write committed before "
        "its answer), redis://HOST:PORT/DB (shared by every process and host naming it)",
        values=STORE_VALUES,
    ),
    Setting(
        "store_namespace",
        _namespace,
        "campaign-mock",
        "prefix of every Redis key, so several mocks can share one Redis without meeting",
        values="NAME",
    ),
    Setting(
        "state_file",
        _optional_text,
        None,
        "the same as --store sqlite:PATH (an old JSON state file there is migrated on first start)",
        values="PATH",
        default_text="none",
    ),
    Setting(
        "state_interval",
        _seconds,
        30.0,
        "no longer used (accepted so old configs still start): every write is committed before its answer",
    ),
)
PATH_SETTINGS = frozenset({"spec", "state_file"})
"""Settings that name files: relative to the config file they are written in (and the path of
a ``store: sqlite:PATH``)."""
BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True)
class ServeSettings:
    spec: str = "campaigns"
    lint: str = "error"
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
    journal_total_bytes: int = 64 * 1024 * 1024
    max_campaigns: int = 100_000
    max_events: int = 1000
    max_connections: int = 1000
    idle_timeout: float = 30.0
    body_timeout: float = 10.0
    header_timeout: float = 10.0
    sandboxes: str = "auto"
    sandbox_ttl: float = 3600.0
    max_sandboxes: int = 1000
    allowed_hosts: list[str] = field(default_factory=list)
    store: str = "memory:"
    store_namespace: str = "campaign-mock"
    state_file: str | None = None
    state_interval: float = 30.0

    def effective_store(self) -> StoreUrl:
        """The store, with ``state_file`` read as ``sqlite:PATH``."""
        if self.state_file:
            return parse_store_url(f"sqlite:{self.state_file}")
        return parse_store_url(self.store)

    def check_combination(self) -> None:
        """ConfigError for settings that each parse but cannot go together."""
        if self.state_file and parse_store_url(self.store).kind != "memory":
            raise ConfigError(
                f"--state-file {self.state_file} and --store {self.store} both name a store; give one "
                "(--state-file PATH is --store sqlite:PATH)"
            )
        store = self.effective_store()
        if self.workers > 1 and self.server != "granian":
            raise ConfigError(
                f"--workers {self.workers} is for --server granian; waitress is one process (use --threads for "
                "concurrency): for replicas, run several `campaign-mock serve` on other ports with the same "
                "--store redis://..."
            )
        if self.workers > 1 and store.kind != "redis":
            raise ConfigError(
                f"--workers {self.workers} refused with --store {store.text} (campaigns, rate-limit counters and "
                "the clock would live in each worker's own memory or file lock, so each would answer from its "
                "own copy): give a shared store (--store redis://HOST:PORT/0), or run one worker"
            )

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
        if setting.key in PATH_SETTINGS and checked[setting.key] is not None:
            checked[setting.key] = relative_to_file(checked[setting.key], Path(path))
        if setting.key == "store":
            store = parse_store_url(checked["store"])
            if store.kind == "sqlite" and not Path(store.path).is_absolute():
                checked["store"] = store.text.replace(store.path, str(Path(path).parent / store.path), 1)
    return checked


def relative_to_file(value: str, config: Path) -> str:
    """A file named in a config file, found next to that file when its path is relative
    (a bundled spec name or a URL stays as it is)."""
    if value.startswith(("http://", "https://")) or Path(value).is_absolute():
        return value
    looks_like_a_path = "/" in value or value.endswith((".yaml", ".yml", ".json"))
    return str(config.parent / value) if looks_like_a_path else value


SINGULAR_KEY_ENV = ENV_PREFIX + "API_KEY"
"""``campaign-mock check`` reads one key from CAMPAIGN_MOCK_API_KEY; serve reads that spelling too."""


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    checked = {}
    for setting in SETTINGS:
        name = env_name(setting.key)
        if setting.key == "api_keys" and name not in environ and SINGULAR_KEY_ENV in environ:
            name = SINGULAR_KEY_ENV
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
    settings = ServeSettings(**merged)
    settings.check_combination()
    return settings

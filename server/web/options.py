"""What ``create_app`` is told: keys, formats, limits, faults and the server's cooperation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from campaign_mock.server.traffic.faults import FaultRule
from campaign_mock.server.traffic.journal import DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_TOTAL_BYTES
from campaign_mock.server.traffic.traffic import RateLimitPolicy
from campaign_mock.server.web.dropping import drop_connection
from campaign_mock.server.web.error_formats import ErrorFormat, ProblemFormat
from campaign_mock.server.web.reading import BodyReader, read_directly
from campaign_mock.server.worlds.registry import SandboxPolicy

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class AppOptions:
    api_keys: Sequence[str]
    error_format: ErrorFormat = field(default_factory=ProblemFormat)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_limit: RateLimitPolicy | None = None  # None: what the spec declares
    faults: Sequence[FaultRule] = ()
    fault_seed: int = 0
    admin_enabled: bool = True
    admin_key: str | None = None
    journal_size: int = 1000
    journal_bytes: int = DEFAULT_JOURNAL_BYTES
    journal_total_bytes: int = DEFAULT_JOURNAL_TOTAL_BYTES
    max_campaigns: int = 100_000
    max_events: int = 1000
    log_requests: bool = True
    max_header_bytes: int = 16 * 1024
    max_query_bytes: int = 8 * 1024
    max_json_depth: int = 32
    drop_connection: Callable[[], NoReturn] = drop_connection
    drop_after_start: bool = False  # granian answers 500 unless the body has started
    body_reader: BodyReader = read_directly  # granian: a TimedReader (server.reading)
    sandboxes: SandboxPolicy = field(default_factory=SandboxPolicy)
    allowed_hosts: Sequence[str] = ()  # Host names answered besides loopback names and IP addresses
    described_settings: Mapping[str, Any] = field(default_factory=dict)

"""Everything a running mock holds: what all sandboxes share, and the registry of their worlds.

Built once by ``build_runtime``; the API responders read their request's world, the admin
handlers change it. The default world answers the paths without ``/sandboxes/NAME``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from campaign_mock.contract.operations import Contract
from campaign_mock.server.stores.base import Backend
from campaign_mock.server.traffic.faults import FaultRule
from campaign_mock.server.traffic.redaction import NO_REDACTION, Redactor
from campaign_mock.server.traffic.traffic import RateLimitPolicy
from campaign_mock.server.web.error_formats import ErrorFormat
from campaign_mock.server.worlds.registry import Worlds
from campaign_mock.server.worlds.world import World


@dataclass
class Runtime:
    contract: Contract
    worlds: Worlds
    error_format: ErrorFormat
    policy: RateLimitPolicy
    backend: Backend
    redactor: Redactor = NO_REDACTION
    configured_faults: Sequence[FaultRule] = ()
    fault_seed: int = 0
    described_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def default(self) -> World:
        return self.worlds.default

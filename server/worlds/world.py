"""A world: everything one sandbox holds, apart from every other sandbox.

Campaigns, their events, versions and ids (the service and its store), the clock, the fault
plan, the request journal, and the rate-limit and concurrency counters. What all sandboxes
share (the contract, the compiled routes and validators, the error format, the limits'
policy) stays in the ``Runtime``; responders find their world on the request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from campaign_mock.server.domain.campaigns import CampaignService
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.traffic.faults import FaultPlan, FaultRule
from campaign_mock.server.traffic.journal import RequestJournal
from campaign_mock.server.traffic.traffic import TrafficControl

DEFAULT_WORLD = "default"


@dataclass
class World:
    name: str
    service: CampaignService
    clock: ControllableClock
    journal: RequestJournal
    faults: FaultPlan
    traffic: TrafficControl
    configured_faults: Sequence[FaultRule] = ()
    fault_seed: int = 0
    last_used: float = field(default_factory=time.monotonic)  # monotonic seconds, for expiry
    last_used_at: float = field(default_factory=time.time)  # wall time, for listing

    @property
    def prefix(self) -> str:
        """The path prefix that names this world in a URL ("" for the default one)."""
        return "" if self.name == DEFAULT_WORLD else f"/sandboxes/{self.name}"

    def touch(self, now: float) -> None:
        self.last_used = now
        self.last_used_at = time.time()

    def reset(self) -> None:
        """Back to the configured start: no campaigns, empty journal, fresh counters, the
        configured faults and clock."""
        self.service.reset()
        self.journal.clear()
        self.traffic.reset()
        self.faults.replace(self.configured_faults, self.fault_seed)
        self.clock.reset()

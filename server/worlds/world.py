"""A world: everything one sandbox holds, apart from every other sandbox.

Campaigns, their events, versions and ids (the service and its store), the clock, the fault
plan, the request journal, and the rate-limit and concurrency counters. What all sandboxes
share (the contract, the compiled routes and validators, the error format, the limits'
policy) stays in the ``Runtime``; responders find their world on the request. Where the
world's state is kept (this process, SQLite, Redis) is the backend's business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from campaign_mock.server.domain.campaigns import CampaignService
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import IdGenerator, Restartable
from campaign_mock.server.traffic.faults import FaultPlan, FaultRule
from campaign_mock.server.traffic.journal import Journal
from campaign_mock.server.traffic.traffic import TrafficControl

DEFAULT_WORLD = "default"


@dataclass
class World:
    name: str
    service: CampaignService
    clock: ControllableClock
    journal: Journal
    faults: FaultPlan
    traffic: TrafficControl
    configured_faults: Sequence[FaultRule] = ()
    fault_seed: int = 0
    ids: IdGenerator | None = None  # the service's ids, restarted by a reset where they count
    starts: Callable[[float], None] | None = None  # the store's request start (``stores.scope``)
    touched: float = 0.0  # when this process last told the sandbox index it was used (wall seconds)
    checked: float = 0.0  # when this process last saw the sandbox in a shared index (wall seconds)

    @property
    def prefix(self) -> str:
        """The path prefix that names this world in a URL ("" for the default one)."""
        return "" if self.name == DEFAULT_WORLD else f"/sandboxes/{self.name}"

    def begin(self) -> None:
        """A request for this world starts: let its store answer the usual questions at once."""
        if self.starts is not None:
            self.starts(self.clock.host_time())

    def reset(self) -> None:
        """Back to the configured start: no campaigns, empty journal, fresh counters, the
        configured faults and clock; counted ids start at 1 again."""
        self.service.reset()
        if isinstance(self.ids, Restartable):
            self.ids.restart()
        self.journal.clear()
        self.traffic.reset()
        self.faults.replace(self.configured_faults, self.fault_seed)
        self.clock.reset()

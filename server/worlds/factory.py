"""How a world is made: the contract's domain rules over the stores the backend gives.

The default world takes the clock and ids injected into ``build_runtime`` (tests steer them);
each sandbox gets fresh ones of the same kind. Where a backend keeps the clock's reading or
the fault plan (a shared store), the world's clock and plan read and write there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from campaign_mock.contract.operations import Contract
from campaign_mock.contract.stamps import Stamps
from campaign_mock.server.domain.campaigns import CampaignService
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.domain.ids import IdGenerator, numeric_ids
from campaign_mock.server.domain.tenancy import tenancy_of
from campaign_mock.server.stores.base import Backend, WorldSpec
from campaign_mock.server.traffic.faults import FaultPlan, FaultRule
from campaign_mock.server.traffic.journal import DEFAULT_JOURNAL_TOTAL_BYTES, JournalBudget
from campaign_mock.server.traffic.traffic import RateLimitPolicy, TrafficControl
from campaign_mock.server.worlds.addressing import id_check
from campaign_mock.server.worlds.world import World


class WorldFactory:
    def __init__(
        self,
        contract: Contract,
        backend: Backend,
        policy: RateLimitPolicy,
        *,
        faults: Sequence[FaultRule],
        fault_seed: int,
        max_campaigns: int | None,
        max_events: int | None,
        journal_size: int,
        journal_bytes: int,
        journal_total_bytes: int = DEFAULT_JOURNAL_TOTAL_BYTES,
    ) -> None:
        self._contract = contract
        self._backend = backend
        self._policy = policy
        self._faults = tuple(faults)
        self._fault_seed = fault_seed
        self._max_campaigns = max_campaigns
        self._max_events = max_events
        self._journal = (journal_size, journal_bytes)
        self._journal_budget = JournalBudget(journal_total_bytes)  # one for every world of this process
        create = contract.one_of_kind("create")
        self._defaults: Mapping[str, Any] = (create.extension.get("defaults") if create else None) or {}
        tenancy = tenancy_of(contract.document)
        self._fixed = [tenancy.field] if tenancy else []
        self._stamps = Stamps.of(contract)  # read once: every world stamps the same members
        self._addressable = id_check(contract)

    def make(self, name: str, clock: ControllableClock, ids: IdGenerator, own_clock: bool = False) -> World:
        """The world ``name``. ``own_clock``: ``clock`` is the one to use as it is (injected for
        the default world) unless the backend keeps the clock elsewhere; otherwise a fresh one
        like it is made."""
        lifecycle = self._contract.lifecycle
        spec = WorldSpec(
            lifecycle.status_field, self._max_campaigns, *self._journal, ids=ids, journal_budget=self._journal_budget
        )
        stores = self._backend.world(name, spec)
        if stores.clock is not None:
            clock = clock.fresh(state=stores.clock)
        elif not own_clock:
            clock = clock.fresh()
        return World(
            name=name,
            service=CampaignService(
                lifecycle,
                stores.campaigns,
                clock,
                stores.ids,
                self._defaults,
                fixed=self._fixed,
                numeric_ids=numeric_ids(self._contract.document),
                max_events=self._max_events,
                timers=stores.timers,
                stamps=self._stamps,
                addressable=self._addressable,
            ),
            clock=clock,
            journal=stores.journal,
            faults=FaultPlan(self._faults, self._fault_seed, state=stores.faults),
            traffic=TrafficControl(self._policy, clock, limiter=stores.limiter, gate=stores.gate),
            configured_faults=self._faults,
            fault_seed=self._fault_seed,
            ids=stores.ids,
            starts=stores.begin,
        )

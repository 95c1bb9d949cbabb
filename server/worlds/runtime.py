"""Everything a running mock holds, in one place the admin API can steer.

Built once by ``create_app``; the API responders read it, the admin handlers change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from campaign_mock.contract.operations import Contract
from campaign_mock.server.domain.campaigns import CampaignService
from campaign_mock.server.domain.clock import ControllableClock
from campaign_mock.server.traffic.faults import FaultPlan, FaultRule
from campaign_mock.server.traffic.journal import RequestJournal
from campaign_mock.server.traffic.redaction import NO_REDACTION, Redactor
from campaign_mock.server.traffic.traffic import TrafficControl
from campaign_mock.server.web.error_formats import ErrorFormat


@dataclass
class Runtime:
    contract: Contract
    service: CampaignService
    clock: ControllableClock
    journal: RequestJournal
    faults: FaultPlan
    traffic: TrafficControl
    error_format: ErrorFormat
    redactor: Redactor = NO_REDACTION
    configured_faults: Sequence[FaultRule] = ()
    fault_seed: int = 0
    described_settings: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        """Back to the configured start: no campaigns, empty journal, fresh counters."""
        self.service.reset()
        self.journal.clear()
        self.traffic.reset()
        self.faults.replace(self.configured_faults, self.fault_seed)
        self.clock.reset()

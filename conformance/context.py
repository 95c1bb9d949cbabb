"""What every rule group gets: the target, the contract view, the options, a progress line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from campaign_mock.conformance.coverage import Coverage
from campaign_mock.conformance.results import GroupResult
from campaign_mock.conformance.target import Exchange, Target
from campaign_mock.conformance.view import ContractView

DEFAULT_SEED = 20261123


@dataclass(frozen=True)
class KitOptions:
    seed: int = DEFAULT_SEED
    max_examples: int = 20
    workers: int = 1
    spec_document: dict[str, Any] = field(default_factory=dict)
    timer_step_seconds: float = 2.0
    other_api_key: str | None = None  # a key of another tenant, for the tenancy rules


@dataclass
class KitContext:
    target: Target
    view: ContractView
    options: KitOptions
    progress: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    results: dict[str, GroupResult] = field(default_factory=dict)
    coverage: Coverage = field(default_factory=Coverage)

    def start(self, group: str) -> GroupResult:
        """The result a group fills; kept here, so what a group found survives its end (a
        target that stops answering mid-group leaves its findings so far in the report)."""
        self.results[group] = GroupResult(group)
        return self.results[group]


class Scenario:
    """The requests of one scenario, so a failure can be replayed from a fresh state."""

    def __init__(self, context: KitContext) -> None:
        self.context = context
        self.exchanges: list[Exchange] = []

    def send(self, *args: Any, **kwargs: Any) -> Exchange:
        exchange = self.context.target.send(*args, **kwargs)
        self.exchanges.append(exchange)
        return exchange

    def steps(self) -> tuple[str, ...]:
        return tuple(exchange.curl() for exchange in self.exchanges)

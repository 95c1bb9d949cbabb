"""Fault injection: latency, error answers and dropped connections, per operation or for all.

Every random choice comes from one seeded generator, so the same seed and the same order
of requests give the same faults.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

ALL_OPERATIONS = "*"


@dataclass(frozen=True)
class FaultRule:
    """What happens to requests of one operation (``*``: every operation without its own rule)."""

    operation: str = ALL_OPERATIONS
    latency_ms: float = 0.0
    latency_max_ms: float | None = None  # with it, latency is uniform between the two
    error_rate: float = 0.0
    error_status: int = 503
    drop_rate: float = 0.0

    def describe(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FaultDecision:
    latency_seconds: float = 0.0
    error_status: int | None = None
    drop: bool = False


NO_FAULT = FaultDecision()


def _number(raw: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"fault {key}: expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def parse_rule(raw: Any) -> FaultRule:
    """A rule from config or admin JSON; ValueError names the field."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"a fault must be a mapping, got {raw!r}")
    known = set(FaultRule.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(f"unknown fault field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    operation = raw.get("operation", ALL_OPERATIONS)
    if not isinstance(operation, str) or not operation:
        raise ValueError("fault operation: expected an operationId or '*'")
    status = raw.get("error_status", 503)
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ValueError(f"fault error_status: expected a status from 400 to 599, got {status!r}")
    latency = _number(raw, "latency_ms", 0, 0, 60_000)
    latency_max = raw.get("latency_max_ms")
    if latency_max is not None:
        latency_max = _number(raw, "latency_max_ms", 0, latency, 60_000)
    return FaultRule(
        operation=operation,
        latency_ms=latency,
        latency_max_ms=latency_max,
        error_rate=_number(raw, "error_rate", 0, 0, 1),
        error_status=status,
        drop_rate=_number(raw, "drop_rate", 0, 0, 1),
    )


class FaultPlan:
    def __init__(self, rules: Sequence[FaultRule] = (), seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.replace(rules, seed)

    def replace(self, rules: Sequence[FaultRule], seed: int) -> None:
        with self._lock:
            self._rules = {rule.operation: rule for rule in rules}
            self._seed = seed
            self._random = random.Random(seed)  # noqa: S311 (repeatable faults, nothing secret)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"seed": self._seed, "faults": [rule.describe() for rule in self._rules.values()]}

    def decide(self, operation_id: str) -> FaultDecision:
        with self._lock:
            rule = self._rules.get(operation_id) or self._rules.get(ALL_OPERATIONS)
            if rule is None:
                return NO_FAULT
            latency = rule.latency_ms
            if rule.latency_max_ms is not None:
                latency = self._random.uniform(rule.latency_ms, rule.latency_max_ms)
            drop = rule.drop_rate > 0 and self._random.random() < rule.drop_rate
            failing = not drop and rule.error_rate > 0 and self._random.random() < rule.error_rate
            return FaultDecision(latency / 1000, rule.error_status if failing else None, drop)

"""Fault injection: latency, error answers and dropped connections, per operation or for all.

Every random choice comes from one seeded generator, so the same seed and the same order
of requests give the same faults.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

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


def draw(seed: int, number: int) -> float:
    """The ``number``-th value in [0, 1) of the sequence ``seed`` names: a hash, not a generator's
    state, so processes sharing a store share one sequence by sharing a counter."""
    digest = hashlib.blake2b(f"{seed}:{number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


DRAWS_PER_DECISION = 3  # latency, drop, error


class FaultState(Protocol):
    """Where a sandbox's fault plan and its place in the seeded sequence are kept."""

    def plan(self) -> tuple[list[dict[str, Any]], int, int]:
        """(the rules, the seed, the plan's version)."""
        ...

    def replace(self, rules: list[dict[str, Any]], seed: int) -> None:
        """A new plan; the sequence starts over."""
        ...

    def advance(self) -> tuple[int, int | None]:
        """(the plan's version, the first of this decision's draws, or None when the plan is empty)."""
        ...


class LocalFaultState:
    def __init__(self) -> None:
        self._rules: list[dict[str, Any]] = []
        self._seed = 0
        self._version = 0
        self._drawn = 0
        self._lock = threading.Lock()

    def plan(self) -> tuple[list[dict[str, Any]], int, int]:
        with self._lock:
            return list(self._rules), self._seed, self._version

    def replace(self, rules: list[dict[str, Any]], seed: int) -> None:
        with self._lock:
            self._rules, self._seed, self._drawn = list(rules), seed, 0
            self._version += 1

    def advance(self) -> tuple[int, int | None]:
        with self._lock:
            if not self._rules:
                return self._version, None
            first, self._drawn = self._drawn, self._drawn + DRAWS_PER_DECISION
            return self._version, first


class FaultPlan:
    """The faults in force for one sandbox; every random choice is a draw of its seeded sequence,
    so the same seed and the same order of requests give the same faults, in one process or many."""

    def __init__(self, rules: Sequence[FaultRule] = (), seed: int = 0, state: FaultState | None = None) -> None:
        self._state: FaultState = state or LocalFaultState()
        self._cached: tuple[int, dict[str, FaultRule], int] | None = None  # (version, rules, seed)
        if state is None or self._state.plan()[2] == 0:
            self.replace(rules, seed)

    def replace(self, rules: Sequence[FaultRule], seed: int) -> None:
        self._state.replace([rule.describe() for rule in rules], seed)

    def _rules(self, version: int) -> tuple[dict[str, FaultRule], int]:
        cached = self._cached
        if cached is None or cached[0] != version:
            raw, seed, version = self._state.plan()
            cached = (version, {rule.operation: rule for rule in map(parse_rule, raw)}, seed)
            self._cached = cached
        return cached[1], cached[2]

    def describe(self) -> dict[str, Any]:
        raw, seed, _ = self._state.plan()
        return {"seed": seed, "faults": raw}

    def decide(self, operation_id: str) -> FaultDecision:
        version, first = self._state.advance()
        if first is None:
            return NO_FAULT
        rules, seed = self._rules(version)
        rule = rules.get(operation_id) or rules.get(ALL_OPERATIONS)
        if rule is None:
            return NO_FAULT
        latency = rule.latency_ms
        if rule.latency_max_ms is not None:
            latency = rule.latency_ms + (rule.latency_max_ms - rule.latency_ms) * draw(seed, first)
        drop = rule.drop_rate > 0 and draw(seed, first + 1) < rule.drop_rate
        failing = not drop and rule.error_rate > 0 and draw(seed, first + 2) < rule.error_rate
        return FaultDecision(latency / 1000, rule.error_status if failing else None, drop)

"""Rate limiting as the contract declares it (``x-rate-limit``), with config overrides.

Buckets are per API key by default, per key and operation, or one for all (``scope``).
Answers under the limit carry the declared header style; an answer over it is a 429
with ``Retry-After`` in the configured error format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from campaign_mock.contract.operations import Operation
from campaign_mock.server.domain.clock import Clock
from campaign_mock.server.domain.errors import ApiError
from campaign_mock.server.traffic.concurrency import ConcurrencyGate, ConcurrencyLimit, Gate, GateFull
from campaign_mock.server.traffic.ratelimit import (
    ALGORITHMS,
    Decision,
    Limiter,
    Window,
    make_limiter,
    parse_windows,
)

SCOPES = ("key", "operation", "global")
HEADER_STYLES = ("ietf", "legacy", "none")
EXTENSION = "x-rate-limit"


class RateLimited(ApiError):
    status = 429
    title = "Too many requests"
    code = "rate-limited"


@dataclass(frozen=True)
class RateLimitPolicy:
    windows: tuple[Window, ...] = ()
    scope: str = "key"
    algorithm: str = "fixed-window"
    headers: str = "ietf"
    headers_on_429: bool = True
    concurrency: ConcurrencyLimit | None = None
    exempt: frozenset[str] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        return bool(self.windows) or self.concurrency is not None

    def applies_to(self, operation: Operation) -> bool:
        return self.active and operation.operation_id not in self.exempt

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "windows": [f"{window.limit}/{window.seconds}s" for window in self.windows],
            "scope": self.scope,
            "algorithm": self.algorithm,
            "headers": self.headers,
            "headers_on_429": self.headers_on_429,
        }
        if self.concurrency is not None:
            described["concurrency"] = {
                "limit": self.concurrency.limit,
                "queue": self.concurrency.queue,
                "wait": self.concurrency.wait_seconds,
            }
        if self.exempt:
            described["exempt"] = sorted(self.exempt)
        return described


def _choice(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what}: expected one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def parse_concurrency(raw: Any) -> ConcurrencyLimit:
    if not isinstance(raw, Mapping):
        raise ValueError("concurrency: expected {limit, queue, wait}")
    limit, queue, wait = raw.get("limit", 1), raw.get("queue", 0), raw.get("wait", 0)
    if not isinstance(limit, int) or limit < 1 or not isinstance(queue, int) or queue < 0:
        raise ValueError("concurrency: limit must be an integer >= 1 and queue an integer >= 0")
    if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
        raise ValueError("concurrency: wait must be a number of seconds >= 0")
    return ConcurrencyLimit(limit, queue, float(wait))


def policy_from_spec(document: Mapping[str, Any], operations: tuple[Operation, ...]) -> RateLimitPolicy:
    """The limits the contract declares; no extension means no limits."""
    raw = document.get(EXTENSION)
    exempt = frozenset(op.operation_id for op in operations if op.extensions.get(EXTENSION) is False)
    if raw is None:
        return RateLimitPolicy(exempt=exempt)
    if not isinstance(raw, Mapping):
        raise ValueError(f"{EXTENSION}: expected a mapping")
    return RateLimitPolicy(
        windows=parse_windows(raw["windows"]) if raw.get("windows") else (),
        scope=_choice(raw.get("scope", "key"), SCOPES, f"{EXTENSION}.scope"),
        algorithm=_choice(raw.get("algorithm", "fixed-window"), ALGORITHMS, f"{EXTENSION}.algorithm"),
        headers=_choice(raw.get("headers", "ietf"), HEADER_STYLES, f"{EXTENSION}.headers"),
        headers_on_429=bool(raw.get("headers_on_429", True)),
        concurrency=parse_concurrency(raw["concurrency"]) if raw.get("concurrency") else None,
        exempt=exempt,
    )


@dataclass(frozen=True)
class RateLimitOverrides:
    """What config or flags change; None keeps the spec's value."""

    windows: str | None = None
    scope: str | None = None
    algorithm: str | None = None
    headers: str | None = None
    concurrency: Mapping[str, Any] | None = None

    def apply(self, policy: RateLimitPolicy) -> RateLimitPolicy:
        changes: dict[str, Any] = {}
        if self.windows is not None:
            changes["windows"] = () if self.windows.strip().lower() in ("off", "none") else parse_windows(self.windows)
        if self.scope is not None:
            changes["scope"] = _choice(self.scope, SCOPES, "rate_limit_scope")
        if self.algorithm is not None:
            changes["algorithm"] = _choice(self.algorithm, ALGORITHMS, "rate_limit_algorithm")
        if self.headers is not None:
            changes["headers"] = _choice(self.headers, HEADER_STYLES, "rate_limit_headers")
        if self.concurrency is not None:
            changes["concurrency"] = parse_concurrency(self.concurrency) if self.concurrency else None
        return replace(policy, **changes)


def rate_headers(style: str, decision: Decision) -> dict[str, str]:
    if style == "none" or not decision.states:
        return {}
    tightest = decision.tightest()
    if style == "legacy":
        return {
            "X-RateLimit-Limit": str(tightest.window.limit),
            "X-RateLimit-Remaining": str(tightest.remaining),
            "X-RateLimit-Reset": str(tightest.reset_seconds),
        }
    policy = ", ".join(f'"{s.window.name}";q={s.window.limit};w={s.window.seconds}' for s in decision.states)
    return {
        "RateLimit-Policy": policy,
        "RateLimit": f'"{tightest.window.name}";r={tightest.remaining};t={tightest.reset_seconds}',
    }


class TrafficControl:
    """Applies one policy: counts hits, holds the concurrency gates, builds headers and 429s."""

    def __init__(
        self,
        policy: RateLimitPolicy,
        clock: Clock,
        limiter: Callable[[str, Sequence[Window]], Limiter] = make_limiter,
        gate: Callable[[str, ConcurrencyLimit], Gate] | None = None,
    ) -> None:
        """``limiter`` and ``gate`` make the counters and the slots where the world's store keeps
        them (in this process by default)."""
        self.policy = policy
        self._clock = clock
        self._limiter = limiter(policy.algorithm, policy.windows) if policy.windows else None
        self._gates: dict[str, Gate] = {}
        self._gate = gate or (lambda _bucket, limit: ConcurrencyGate(limit))

    def _bucket(self, operation: Operation, key: str | None) -> str:
        if self.policy.scope == "global":
            return "*"
        who = key or "anonymous"
        return f"{who}|{operation.operation_id}" if self.policy.scope == "operation" else who

    def admit(self, operation: Operation, key: str | None) -> dict[str, str]:
        """Headers for an answer under the limit; RateLimited when over it."""
        if self._limiter is None or not self.policy.applies_to(operation):
            return {}
        decision = self._limiter.hit(self._bucket(operation, key), self._clock.now())
        headers = rate_headers(self.policy.headers, decision)
        if decision.allowed:
            return headers
        blocked = ", ".join(str(s.window) for s in decision.states if s.remaining == 0)
        extra = headers if self.policy.headers_on_429 else {}
        raise RateLimited(
            f"Rate limit exceeded ({blocked}); retry after {decision.retry_after} s.",
            headers={**extra, "Retry-After": str(decision.retry_after)},
        )

    @contextmanager
    def slot(self, operation: Operation, key: str | None) -> Iterator[None]:
        limit = self.policy.concurrency
        if limit is None or not self.policy.applies_to(operation):
            yield
            return
        bucket = self._bucket(operation, key)
        gate = self._gates.get(bucket)
        if gate is None:
            gate = self._gates.setdefault(bucket, self._gate(bucket, limit))
        try:
            gate.acquire()
        except GateFull as full:
            raise RateLimited(
                f"Too many concurrent requests: {full.reason}; retry after {full.retry_after} s.",
                headers={"Retry-After": str(full.retry_after)},
            ) from full
        try:
            yield
        finally:
            gate.release()

    def reset(self) -> None:
        if self._limiter is not None:
            self._limiter.reset()

"""Rate limits: several windows at once, fixed-window or token-bucket, on the injected clock.

Written here rather than taken from the ``limits`` library because its storages read
``time.time()`` themselves, and the mock's windows must follow the controllable clock
(a frozen clock freezes the windows; advancing it refills them).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from campaign_mock.contract.ratelimits import ALGORITHMS, Window, parse_windows

__all__ = [
    "ALGORITHMS",
    "Decision",
    "FixedWindowLimiter",
    "TokenBucketLimiter",
    "Window",
    "make_limiter",
    "parse_windows",
]


@dataclass(frozen=True)
class WindowState:
    window: Window
    remaining: int
    reset_seconds: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int
    states: tuple[WindowState, ...]

    def tightest(self) -> WindowState:
        return min(self.states, key=lambda state: (state.remaining, -state.reset_seconds))


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def fixed_window_decision(
    windows: Sequence[Window], at: float, held: Sequence[tuple[float, int] | None]
) -> tuple[Decision, list[tuple[float, int]]]:
    """One request at ``at`` against each window's (opened, count) as held (None: never used):
    the decision and what each window holds after it. A pure function, so a shared store's
    script and this process's limiter decide alike."""
    current = []
    for window, state in zip(windows, held, strict=True):
        opened, count = state if state is not None else (at, 0)
        if at >= opened + window.seconds or at < opened:
            opened, count = at, 0
        current.append((window, opened, count))
    allowed = all(count < window.limit for window, _, count in current)
    states, after = [], []
    retry = 0
    for window, opened, count in current:
        used = count + 1 if allowed else count
        after.append((opened, used))
        reset = max(1, math.ceil(opened + window.seconds - at))
        if count >= window.limit:
            retry = max(retry, reset)
        states.append(WindowState(window, max(0, window.limit - used), reset))
    return Decision(allowed, retry, tuple(states)), after


def token_bucket_decision(
    windows: Sequence[Window], at: float, held: Sequence[tuple[float, float] | None]
) -> tuple[Decision, list[tuple[float, float]]]:
    """One request at ``at`` against each bucket's (tokens, since) as held (None: full): the
    decision and what each bucket holds after it."""
    levels = []
    for window, state in zip(windows, held, strict=True):
        tokens, since = state if state is not None else (float(window.limit), at)
        rate = window.limit / window.seconds
        levels.append((window, min(float(window.limit), tokens + max(0.0, at - since) * rate), rate))
    allowed = all(tokens >= 1 for _, tokens, _ in levels)
    states, after = [], []
    retry = 0
    for window, tokens, rate in levels:
        left = tokens - 1 if allowed else tokens
        after.append((left, at))
        if tokens < 1:
            retry = max(retry, 1, math.ceil((1 - tokens) / rate))
        states.append(WindowState(window, max(0, math.floor(left)), max(1, math.ceil((window.limit - left) / rate))))
    return Decision(allowed, retry, tuple(states)), after


class FixedWindowLimiter:
    """Counts per window; a window opens with a bucket's first request and resets when it ends.

    Opening at the first request (not at epoch-aligned boundaries) means a quick burst past
    the limit always meets its 429, however the burst falls on the clock.
    """

    def __init__(self, windows: Sequence[Window]) -> None:
        self._windows = tuple(windows)
        self._counts: dict[str, list[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, now: datetime) -> Decision:
        with self._lock:
            held: Sequence[tuple[float, int] | None] = self._counts.get(bucket) or [None] * len(self._windows)
            decision, self._counts[bucket] = fixed_window_decision(self._windows, _epoch(now), held)
            return decision

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class TokenBucketLimiter:
    """One bucket per window: ``limit`` tokens, refilled evenly over ``seconds``."""

    def __init__(self, windows: Sequence[Window]) -> None:
        self._windows = tuple(windows)
        self._buckets: dict[str, list[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, now: datetime) -> Decision:
        with self._lock:
            held: Sequence[tuple[float, float] | None] = self._buckets.get(bucket) or [None] * len(self._windows)
            decision, self._buckets[bucket] = token_bucket_decision(self._windows, _epoch(now), held)
            return decision

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


class Limiter(Protocol):
    """A world's rate-limit counters: in the process, or in a shared store."""

    def hit(self, bucket: str, now: datetime) -> Decision:
        """Count one request in ``bucket`` at the mock's ``now``, if every window lets it in."""
        ...

    def reset(self) -> None: ...


def make_limiter(algorithm: str, windows: Sequence[Window]) -> Limiter:
    if algorithm == "token-bucket":
        return TokenBucketLimiter(windows)
    if algorithm == "fixed-window":
        return FixedWindowLimiter(windows)
    raise ValueError(f"rate limit algorithm {algorithm!r}: expected one of {', '.join(ALGORITHMS)}")

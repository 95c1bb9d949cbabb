"""A concurrency limit with a bounded wait queue: N at a time, up to Q waiting for T seconds.

Waiting is in real time (a request really waits), unlike rate-limit windows, which follow
the injected clock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ConcurrencyLimit:
    limit: int
    queue: int
    wait_seconds: float


class GateFull(Exception):
    """No slot came free: the queue was full, or the wait ran out."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Gate(Protocol):
    """One bucket's slots: ``acquire`` takes one, waiting in the bounded queue, or raises GateFull."""

    def acquire(self) -> None: ...

    def release(self) -> None: ...


class ConcurrencyGate:
    def __init__(self, settings: ConcurrencyLimit) -> None:
        self.settings = settings
        self._active = 0
        self._waiting = 0
        self._condition = threading.Condition()

    def release(self) -> None:
        with self._condition:
            self._active -= 1
            self._condition.notify()

    def acquire(self) -> None:
        """Take a slot, waiting in the queue if there is room; GateFull otherwise."""
        limit = self.settings
        retry = max(1, round(limit.wait_seconds))
        with self._condition:
            if self._active < limit.limit:
                self._active += 1
                return
            if self._waiting >= limit.queue:
                raise GateFull(f"{limit.limit} request(s) in progress and {limit.queue} waiting already", retry)
            self._waiting += 1
            deadline = time.monotonic() + limit.wait_seconds
            try:
                while self._active >= limit.limit:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise GateFull(f"no slot came free within {limit.wait_seconds:g} s", retry)
                    self._condition.wait(remaining)
                self._active += 1
            finally:
                self._waiting -= 1

"""The server's one source of time, injected so tests and the admin API can steer it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


def real_time() -> datetime:
    return datetime.now(UTC)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


class ClockRangeError(ValueError):
    """A move that would take the clock outside the times it can hold and compute with."""


def check_in_range(moment: datetime) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise ClockRangeError(
            f"{moment.isoformat()} is outside the clock's range ({EARLIEST.date()} to before {LATEST.date()})"
        )
    return moment


class ControllableClock:
    """Real time shifted by an offset, or frozen at a moment; set, advanced and frozen at will.

    The admin API steers the running server through this; tests build it frozen so nothing
    depends on when they run.
    """

    def __init__(
        self,
        *,
        start: datetime | None = None,
        frozen: bool = False,
        source: Callable[[], datetime] = real_time,
    ) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._source = source
        self._lock = threading.Lock()
        self._initial = (start, frozen)
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self.reset()

    def fresh(self) -> ControllableClock:
        """A clock with this one's configured start, frozen state and time source (a new sandbox's)."""
        start, frozen = self._initial
        return ControllableClock(start=start, frozen=frozen, source=self._source)

    def reset(self) -> None:
        """Back to the configured start (and frozen state)."""
        start, frozen = self._initial
        with self._lock:
            self._offset = (start - self._source()) if start is not None else timedelta(0)
            self._frozen_at = (start or self._source()) if frozen else None

    def now(self) -> datetime:
        with self._lock:
            return self._frozen_at if self._frozen_at is not None else self._source() + self._offset

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen_at is not None

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``; a frozen clock stays frozen there, a running one runs on from it."""
        if moment.tzinfo is None:
            raise ValueError("the moment must be timezone-aware")
        check_in_range(moment)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = moment
            else:
                self._offset = moment - self._source()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            current = self._frozen_at if self._frozen_at is not None else self._source() + self._offset
            try:
                check_in_range(current + delta)
            except OverflowError as exc:
                raise ClockRangeError(f"advancing by {delta} leaves the clock's range") from exc
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset += delta

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._source() + self._offset

    def unfreeze(self) -> None:
        """Run on from the frozen moment."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - self._source()
                self._frozen_at = None

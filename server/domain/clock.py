"""The server's one source of time, injected so tests and the admin API can steer it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ClockReading:
    """Where a clock stands: real time shifted by ``offset`` seconds, or frozen at ``frozen_at``
    (seconds since the epoch). Plain numbers, so a shared store can hold them."""

    offset: float = 0.0
    frozen_at: float | None = None


class ClockState(Protocol):
    """Where a clock's reading is kept: in the process, or in a shared store (one clock for
    every process serving the sandbox)."""

    def read(self) -> ClockReading | None:
        """The reading, or None before the first one is written."""
        ...

    def update(self, change: Callable[[ClockReading], ClockReading]) -> ClockReading:
        """Apply ``change`` atomically (two processes advancing at once both count)."""
        ...


class LocalClockState:
    def __init__(self) -> None:
        self._reading: ClockReading | None = None
        self._lock = threading.Lock()

    def read(self) -> ClockReading | None:
        return self._reading

    def update(self, change: Callable[[ClockReading], ClockReading]) -> ClockReading:
        with self._lock:
            self._reading = change(self._reading or ClockReading())
            return self._reading


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class ControllableClock:
    """Real time shifted by an offset, or frozen at a moment; set, advanced and frozen at will.

    The admin API steers the running server through this; tests build it frozen so nothing
    depends on when they run. The reading lives in a ``ClockState``: the process's own, or a
    shared store's, so that ``advance`` on one process moves the clock of all.
    """

    def __init__(
        self,
        *,
        start: datetime | None = None,
        frozen: bool = False,
        source: Callable[[], datetime] = real_time,
        state: ClockState | None = None,
    ) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the clock's start must be timezone-aware")
        self._source = source
        self._initial = (start, frozen)
        self._state: ClockState = state or LocalClockState()
        if self._state.read() is None:
            self.reset()

    def fresh(self, state: ClockState | None = None) -> ControllableClock:
        """A clock with this one's configured start, frozen state and time source (a new sandbox's)."""
        start, frozen = self._initial
        return ControllableClock(start=start, frozen=frozen, source=self._source, state=state)

    def _configured(self) -> ClockReading:
        start, frozen = self._initial
        real = _epoch(self._source())
        offset = (_epoch(start) - real) if start is not None else 0.0
        return ClockReading(offset, (_epoch(start) if start else real) if frozen else None)

    def reset(self) -> None:
        """Back to the configured start (and frozen state)."""
        configured = self._configured()
        self._state.update(lambda _: configured)

    def host_time(self) -> float:
        """The time the clock is shifted from (seconds since the epoch), before any offset."""
        return _epoch(self._source())

    def _reading(self) -> ClockReading:
        return self._state.read() or ClockReading()

    def now(self) -> datetime:
        reading = self._reading()
        if reading.frozen_at is not None:
            return _moment(reading.frozen_at)
        return self._source() + timedelta(seconds=reading.offset)

    @property
    def frozen(self) -> bool:
        return self._reading().frozen_at is not None

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``; a frozen clock stays frozen there, a running one runs on from it."""
        if moment.tzinfo is None:
            raise ValueError("the moment must be timezone-aware")
        check_in_range(moment)
        target, real = _epoch(moment), _epoch(self._source())

        def jump(reading: ClockReading) -> ClockReading:
            if reading.frozen_at is not None:
                return ClockReading(reading.offset, target)
            return ClockReading(target - real, None)

        self._state.update(jump)

    def advance(self, delta: timedelta) -> None:
        current = self.now()
        try:
            check_in_range(current + delta)
        except OverflowError as exc:
            raise ClockRangeError(f"advancing by {delta} leaves the clock's range") from exc
        seconds = delta.total_seconds()

        def move(reading: ClockReading) -> ClockReading:
            if reading.frozen_at is not None:
                return ClockReading(reading.offset, reading.frozen_at + seconds)
            return ClockReading(reading.offset + seconds, None)

        self._state.update(move)

    def freeze(self) -> None:
        real = _epoch(self._source())
        self._state.update(
            lambda reading: (
                reading if reading.frozen_at is not None else ClockReading(reading.offset, real + reading.offset)
            )
        )

    def unfreeze(self) -> None:
        """Run on from the frozen moment."""
        real = _epoch(self._source())
        self._state.update(
            lambda reading: reading if reading.frozen_at is None else ClockReading(reading.frozen_at - real, None)
        )

"""Rate-limit windows as contracts and flags write them (``10/s``, ``150/min``, ``5/10s``).

Shared: the server enforces them, the conformance kit reads them from ``x-rate-limit``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_WINDOW = re.compile(r"^\s*(\d+)\s*/\s*(\d+)?\s*([a-z]+)\s*$")
ALGORITHMS = ("fixed-window", "token-bucket")


@dataclass(frozen=True)
class Window:
    """At most ``limit`` requests per ``seconds``."""

    limit: int
    seconds: int

    @property
    def name(self) -> str:
        return f"{self.limit}-per-{self.seconds}s"

    def __str__(self) -> str:
        return f"{self.limit}/{self.seconds}s"


def parse_windows(text: str | Sequence[str]) -> tuple[Window, ...]:
    """``"10/s,150/min"`` (or a list of such) into windows; ValueError says what is accepted."""
    parts = [part for part in (text.split(",") if isinstance(text, str) else text) if str(part).strip()]
    windows = []
    for part in parts:
        match = _WINDOW.match(str(part).lower())
        if match is None or match.group(3) not in UNITS or int(match.group(1)) < 1:
            raise ValueError(
                f"rate limit {str(part).strip()!r}: expected COUNT/UNIT like 10/s, 150/min, 1000/hour, 5/10s"
            )
        multiple = int(match.group(2) or 1)
        windows.append(Window(int(match.group(1)), multiple * UNITS[match.group(3)]))
    if not windows:
        raise ValueError("rate limit: give at least one window, like 10/s")
    return tuple(windows)

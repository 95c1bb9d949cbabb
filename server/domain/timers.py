"""When campaigns are next due for a clock-driven move: a heap of (moment, campaign id).

Entries may be stale (the campaign moved or its time changed since): whoever pops one
re-reads the campaign and decides, so pushing again is always safe.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from datetime import datetime


class TimerQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []
        self._tie = itertools.count()
        self._lock = threading.Lock()

    def schedule(self, campaign_id: str, moment: datetime) -> None:
        with self._lock:
            heapq.heappush(self._heap, (moment, next(self._tie), campaign_id))

    def pop_due(self, now: datetime) -> list[str]:
        """Ids with a moment at or before ``now``, earliest first, each once."""
        due: dict[str, None] = {}
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                due[heapq.heappop(self._heap)[2]] = None
        return list(due)

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()

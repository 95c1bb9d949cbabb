"""When campaigns are next due for a clock-driven move, in this process: a heap of (moment,
campaign id), one live entry per campaign, the earliest asked for.

Entries may be stale (the campaign moved or its time changed since): whoever pops one
re-reads the campaign and decides, so scheduling again is always safe. A later moment for a
campaign already waiting is kept out until the earlier pops (the same rule as the shared
stores' ``ZADD LT``).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from datetime import datetime


class TimerQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []
        self._due: dict[str, datetime] = {}
        self._tie = itertools.count()
        self._lock = threading.Lock()

    def schedule(self, campaign_id: str, moment: datetime) -> None:
        with self._lock:
            waiting = self._due.get(campaign_id)
            if waiting is not None and waiting <= moment:
                return
            self._due[campaign_id] = moment
            heapq.heappush(self._heap, (moment, next(self._tie), campaign_id))

    def pop_due(self, now: datetime) -> list[str]:
        """Ids with a moment at or before ``now``, earliest first, each once."""
        due: list[str] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                moment, _, campaign_id = heapq.heappop(self._heap)
                if self._due.get(campaign_id) == moment:
                    del self._due[campaign_id]
                    due.append(campaign_id)
        return due

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()
            self._due.clear()

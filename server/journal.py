"""The request journal: what clients sent and what they got, newest first, bounded in size.

An entry keeps what the request already had (the time, the headers, the raw body) and is
only rendered when the admin API reads it: recording sits on every request's path (it was
15% of a read's time under granian before), reading the journal does not.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaign_mock.contract.timefmt import format_timestamp

MAX_BODY_CHARS = 65536


@dataclass(frozen=True)
class JournalEntry:
    id: int
    at: datetime
    method: str
    path: str
    query: str
    status: int | None
    headers: Mapping[str, str]
    body: bytes | None
    duration_ms: float
    operation_id: str | None
    fault: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": format_timestamp(self.at),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "headers": dict(self.headers),
            "body": body_text(self.body),
            "duration_ms": round(self.duration_ms, 3),
            "operation_id": self.operation_id,
            "fault": self.fault,
        }


def body_text(raw: bytes | None) -> str | None:
    if not raw:
        return None
    text = raw[: MAX_BODY_CHARS * 4].decode("utf-8", errors="replace")
    return text[:MAX_BODY_CHARS]


class RequestJournal:
    def __init__(self, capacity: int = 1000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None, limit: int = 100
    ) -> tuple[list[JournalEntry], int]:
        """Matching entries, newest first, at most ``limit``; and how many matched in all.

        ``path`` matches exactly or as a glob (``/campaigns/*/pause``).
        """
        with self._lock:
            snapshot = list(self._entries)
        matching = [
            entry
            for entry in reversed(snapshot)
            if (method is None or entry.method == method.upper())
            and (path is None or entry.path == path or fnmatch.fnmatchcase(entry.path, path))
            and (status is None or entry.status == status)
        ]
        return matching[:limit], len(matching)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

"""The request journal: what clients sent and what they got, newest first, bounded in count
and in bytes.

An entry keeps what the request already had (the time, the headers, the raw body, cut at
``MAX_BODY_BYTES``) and is only rendered when the admin API reads it: recording sits on every
request's path (it was 15% of a read's time under granian before), reading the journal does
not. Rendering masks credentials (``server.redaction``). The byte bound matters: 500 requests
of 1 MiB once took the process from 137 to 641 MB.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from campaign_mock.contract.timefmt import format_timestamp
from campaign_mock.server.traffic.redaction import NO_REDACTION, Redactor

MAX_BODY_BYTES = 64 * 1024
ENTRY_OVERHEAD_BYTES = 600  # the entry object, its strings and the deque slot, roughly
DEFAULT_JOURNAL_BYTES = 16 * 1024 * 1024
DEFAULT_JOURNAL_TOTAL_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class JournalEntry:
    """One request and its answer; ``id`` is given by the journal that records it."""

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
    body_bytes: int = 0  # the body's whole size, when ``body`` holds only its start
    error_code: str | None = None  # the error's code (``invalid-transition``, ...) when the answer was one
    retry_after: str | None = None  # the answer's Retry-After header, when it had one
    wall: float = 0.0  # wall time (epoch seconds) it arrived: the mock's clock may stand still
    id: int = 0

    def size(self) -> int:
        """What the entry costs the journal, in bytes (an estimate that errs high)."""
        headers = sum(len(name) + len(value) for name, value in self.headers.items())
        return ENTRY_OVERHEAD_BYTES + len(self.path) + len(self.query) + headers + len(self.body or b"")

    def as_dict(self, redactor: Redactor = NO_REDACTION) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": format_timestamp(self.at),
            "method": self.method,
            "path": self.path,
            "query": redactor.query_string(self.query),
            "status": self.status,
            "headers": redactor.headers_of(self.headers),
            "body": redactor.body(body_text(self.body)),
            "body_bytes": self.body_bytes or len(self.body or b""),
            "body_truncated": bool(self.body_bytes and self.body_bytes > len(self.body or b"")),
            "duration_ms": round(self.duration_ms, 3),
            "operation_id": self.operation_id,
            "fault": self.fault,
            "error_code": self.error_code,
            "retry_after": self.retry_after,
        }


def body_text(raw: bytes | None) -> str | None:
    if not raw:
        return None
    return raw.decode("utf-8", errors="replace")


def kept_body(raw: bytes | None, limit: int = MAX_BODY_BYTES) -> tuple[bytes | None, int]:
    """(the start of the body that the journal keeps, the body's whole size)."""
    if raw is None:
        return None, 0
    return raw[:limit], len(raw)


REFUSED_BODY_BYTES = 1024
REFUSED_HEADERS = 32
REFUSED_HEADER_CHARS = 256


def trimmed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """What the journal keeps of an uncredentialed request's headers: the first 32, each cut at
    256 characters (14 KB of headers on each of 1,000 refused requests is 14 MB otherwise)."""
    kept = itertools.islice(headers.items(), REFUSED_HEADERS)
    return {name[:REFUSED_HEADER_CHARS]: value[:REFUSED_HEADER_CHARS] for name, value in kept}


class Journal(Protocol):
    """Where a world's journal is kept: in the process, or in a shared store."""

    def record(self, entry: JournalEntry) -> None:
        """Keep ``entry`` (giving it the next id), dropping the oldest past the bounds."""
        ...

    def entries(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None, limit: int = 100
    ) -> tuple[list[JournalEntry], int]: ...

    def clear(self) -> None: ...

    @property
    def bytes_held(self) -> int: ...


def matching(
    newest_first: Iterable[JournalEntry], method: str | None, path: str | None, status: int | None
) -> list[JournalEntry]:
    """The entries a journal query selects; ``path`` matches exactly or as a glob (``/campaigns/*/pause``)."""
    return [
        entry
        for entry in newest_first
        if (method is None or entry.method == method.upper())
        and (path is None or entry.path == path or fnmatch.fnmatchcase(entry.path, path))
        and (status is None or entry.status == status)
    ]


class JournalBudget:
    """The bytes every journal of this process may hold together, whatever the number of
    sandboxes: without it each sandbox's own bound adds up (20 sandboxes of 16 MiB took the
    process from 74 to 400 MB). Past the budget the oldest entries go first from a journal
    that holds more than its fair share (the one recording, or else the largest), so a busy
    sandbox cannot empty a quiet one's journal."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._held: dict[int, tuple[weakref.ref[RequestJournal], int]] = {}  # id -> (journal, bytes)
        self._total = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return self._total

    def settle(self, journal: RequestJournal, holds: int) -> None:
        """``journal`` now holds ``holds`` bytes: evict what the budget cannot keep. Called with
        no journal lock held (evicting takes the victim's)."""
        with self._lock:
            _, before = self._held.get(id(journal), (None, 0))
            self._held[id(journal)] = (weakref.ref(journal), holds)
            self._total += holds - before
            while self._total > self.max_bytes:
                victim = journal if holds * len(self._held) > self._total else self._largest()
                if victim is None:
                    break
                freed, holds_now = victim.evict_oldest()
                if freed == 0:
                    break
                self._held[id(victim)] = (weakref.ref(victim), holds_now)
                self._total -= freed
                if victim is journal:
                    holds = holds_now

    def forget_id(self, key: int) -> None:
        """A journal is gone (its sandbox dropped): its bytes no longer count."""
        with self._lock:
            _, held = self._held.pop(key, (None, 0))
            self._total -= held

    def _largest(self) -> RequestJournal | None:
        largest: RequestJournal | None = None
        most = 0
        for key, (reference, held) in list(self._held.items()):
            journal = reference()
            if journal is None:
                self._total -= held
                del self._held[key]
            elif held > most:
                largest, most = journal, held
        return largest


class RequestJournal:
    def __init__(
        self, capacity: int = 1000, max_bytes: int = DEFAULT_JOURNAL_BYTES, budget: JournalBudget | None = None
    ) -> None:
        self._entries: deque[tuple[JournalEntry, int]] = deque()  # each with its size
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._bytes = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._budget = budget
        if budget is not None:
            weakref.finalize(self, budget.forget_id, id(self))

    def record(self, entry: JournalEntry) -> None:
        size = entry.size()
        with self._lock:
            entry.id = next(self._ids)
            self._entries.append((entry, size))
            self._bytes += size
            while self._entries and (len(self._entries) > self._capacity or self._bytes > self._max_bytes):
                self._bytes -= self._entries.popleft()[1]
            holds = self._bytes
        if self._budget is not None:
            self._budget.settle(self, holds)

    def evict_oldest(self) -> tuple[int, int]:
        """Drop the oldest entry: (bytes freed, bytes held after)."""
        with self._lock:
            if not self._entries:
                return 0, 0
            freed = self._entries.popleft()[1]
            self._bytes -= freed
            return freed, self._bytes

    @property
    def bytes_held(self) -> int:
        with self._lock:
            return self._bytes

    def entries(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None, limit: int = 100
    ) -> tuple[list[JournalEntry], int]:
        """Matching entries, newest first, at most ``limit``; and how many matched in all."""
        with self._lock:
            snapshot = [entry for entry, _ in self._entries]
        found = matching(reversed(snapshot), method, path, status)
        return found[:limit], len(found)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
        if self._budget is not None:
            self._budget.settle(self, 0)

"""Committed campaign records kept in the process, so a read of the SQLite store skips SQLite.

Coherent because one process holds a store file (``sqlite``'s lock: a second ``serve`` on it
is refused) and every write of it goes through this process's store, which tells the cache
after its commit. Reads fill it too, but only when nothing was deleted or reset since the
read began (a generation per sandbox), and a record never replaces a newer version of
itself. A write whose transaction fails (a full disk, an I/O error) raises before it tells the
cache, so the cache never holds a write that was undone. Records are shared, read-only, as the
memory store's are (copy on write). Bounded: past ``capacity`` the oldest entry goes. A read
from SQLite was about a third of a getCampaign's time in-process.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from campaign_mock.server.stores.base import Record

DEFAULT_CAPACITY = 10_000


class ReadCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._records: dict[tuple[str, str], Record] = {}
        self._generations: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def get(self, sandbox: str, campaign_id: str) -> Record | None:
        return self._records.get((sandbox, campaign_id))

    def generation(self, sandbox: str) -> int:
        """Taken before a read from SQLite, handed back with what it read (``offer``)."""
        return self._generations[sandbox]

    def offer(self, sandbox: str, campaign_id: str, record: Record, generation: int) -> None:
        """A record read from SQLite: kept unless something was deleted or reset since."""
        with self._lock:
            if self._generations[sandbox] == generation:
                self._keep((sandbox, campaign_id), record)

    def written(self, sandbox: str, campaign_id: str, record: Record) -> None:
        """A record just committed."""
        with self._lock:
            self._keep((sandbox, campaign_id), record)

    def forget(self, sandbox: str, campaign_id: str | None = None) -> None:
        """After a committed delete (of one campaign, or of the whole sandbox)."""
        with self._lock:
            self._generations[sandbox] += 1
            if campaign_id is not None:
                self._records.pop((sandbox, campaign_id), None)
            else:
                for key in [key for key in self._records if key[0] == sandbox]:
                    del self._records[key]

    def _keep(self, key: tuple[str, str], record: Record) -> None:
        current = self._records.get(key)
        if current is not None and current.version > record.version:
            return
        if current is None and len(self._records) >= self._capacity:
            del self._records[next(iter(self._records))]
        self._records[key] = record

"""The journal of a world on Redis: a list, newest first, trimmed by count and bytes by the
recording script, written behind the answer.

Recording sits on every request's path, and a round trip there cost a third of a getCampaign
on this machine; so entries go to one writer thread per process, which sends whatever has
queued in one pipeline. Reading the journal (or clearing it) first waits until this process's
queue is written, so a client reading the journal through the same process sees its requests;
through another process it sees them once written, a round trip later. Entries still queued
when a process is killed are lost: the journal tells what happened, it is not data.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

import redis

from campaign_mock.contract.jsontext import json_ascii
from campaign_mock.server.domain.errors import StoreLost, StoreUnavailable
from campaign_mock.server.stores.redis_link import RedisLink, text
from campaign_mock.server.traffic.journal import JournalEntry, matching

FLUSH_TIMEOUT_SECONDS = 5.0
BATCH = 256
log = logging.getLogger("campaign_mock.store")


TRIM_ROUNDS = 8  # journals trimmed at most after one batch; the next batch trims more


class JournalWriter:
    """Sends queued journal entries in pipelines, from one thread (made again after a fork).

    It also keeps the namespace's journal budget (``budget`` bytes for every journal of every
    sandbox together, in every process): after each batch it tells Redis what the journals it
    wrote hold, and trims the largest while the namespace holds more. Off the request's path,
    and cluster-safe: each script touches one sandbox's keys or the namespace's own."""

    def __init__(self, link: RedisLink, namespace: str = "campaign-mock", budget: int | None = None) -> None:
        self._link = link
        self._sizes_key = f"{namespace}:journal-sizes"
        self.budget = budget
        self._queue: deque[tuple[list[str], JournalEntry, int, int]] = deque()
        self._condition = threading.Condition()
        self._queued = 0
        self._written = 0
        self._pid = -1

    def put(self, keys: list[str], entry: JournalEntry, capacity: int, max_bytes: int) -> None:
        with self._condition:
            self._ensure_thread()
            self._queue.append((keys, entry, capacity, max_bytes))
            self._queued += 1
            self._condition.notify_all()

    def flush(self) -> None:
        """Wait until what this process queued so far is written (or given up on)."""
        with self._condition:
            target = self._queued
            self._condition.wait_for(lambda: self._written >= target, timeout=FLUSH_TIMEOUT_SECONDS)

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():  # none yet, or inherited from the parent by a fork
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="campaign-mock:journal", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: bool(self._queue))
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            try:
                self._deliver(batch)
            except Exception:  # the writer outlives any batch, or every later read would wait its timeout
                log.exception("journal entries lost: writing %d of them to Redis failed", len(batch))
            finally:
                with self._condition:
                    self._written += len(batch)
                    self._condition.notify_all()

    def _deliver(self, batch: list[tuple[list[str], JournalEntry, int, int]]) -> None:
        """Send ``batch``; on a Redis failure its entries are lost (the requests they tell of
        are answered) and the link is marked down."""
        try:
            self._send(batch)
        except redis.exceptions.NoScriptError:  # Redis restarted, or first use: load and send again
            try:
                self._link.load("JOURNAL_RECORD")
                self._send(batch)
            except StoreLost:
                pass  # the namespace lost its state: said once by its check, not as an outage
            except (redis.RedisError, StoreUnavailable) as exc:
                self._link.failed(exc)
        except redis.RedisError as exc:
            self._link.failed(exc)

    def _send(self, batch: list[tuple[list[str], JournalEntry, int, int]]) -> None:
        pipe = self._link.client.pipeline(transaction=False)
        for keys, entry, capacity, max_bytes in batch:
            self._link.queue(pipe, "JOURNAL_RECORD", keys, [encoded(entry), entry.size(), capacity, max_bytes])
        held = pipe.execute()
        if self.budget is not None:
            written = zip(batch, held, strict=True)
            latest = {keys[0].removesuffix(":journal"): int(after) for (keys, *_), after in written}
            self._keep_budget(self.budget, latest)

    def _keep_budget(self, budget: int, latest: dict[str, int]) -> None:
        """Tell the namespace what the journals just written hold; trim the largest while over."""
        pairs: list[Any] = [item for prefix, size in latest.items() for item in (prefix, size)]
        for _ in range(TRIM_ROUNDS):
            over = self._link.run("JOURNAL_SIZES", [self._sizes_key], [budget, *pairs])
            if not over:
                return
            prefix, size, excess = text(over[0]), int(float(text(over[1]))), int(float(text(over[2])))
            keys = [prefix + ":journal", prefix + ":journal-bytes"]
            after = int(self._link.run("JOURNAL_TRIM", keys, [max(0, size - excess)]))
            pairs = [prefix, after]
            if after == size:  # nothing left to take from the largest: its count is stale
                self._forget_size(prefix)
                return

    def _forget_size(self, prefix: str) -> None:
        self._link.call(lambda client: client.zrem(self._sizes_key, prefix), "count")


def encoded(entry: JournalEntry) -> str:
    return json_ascii(
        {
            "at": entry.at.timestamp(),
            "method": entry.method,
            "path": entry.path,
            "query": entry.query,
            "status": entry.status,
            "headers": dict(entry.headers),
            "body": None if entry.body is None else entry.body.decode("latin-1"),
            "duration_ms": entry.duration_ms,
            "operation_id": entry.operation_id,
            "fault": entry.fault,
            "body_bytes": entry.body_bytes,
            "error_code": entry.error_code,
            "retry_after": entry.retry_after,
            "wall": entry.wall,
        }
    )


def decoded(stored: bytes | str) -> JournalEntry:
    _size, number, body = text(stored).split("|", 2)
    held: dict[str, Any] = json.loads(body)
    raw = held["body"]
    return JournalEntry(
        at=datetime.fromtimestamp(held["at"], UTC),
        method=held["method"],
        path=held["path"],
        query=held["query"],
        status=held["status"],
        headers=held["headers"],
        body=None if raw is None else raw.encode("latin-1"),
        duration_ms=held["duration_ms"],
        operation_id=held["operation_id"],
        fault=held["fault"],
        body_bytes=held["body_bytes"],
        error_code=held.get("error_code"),  # .get: entries written by a mock before these members
        retry_after=held.get("retry_after"),
        wall=held.get("wall", 0.0),
        id=int(number),
    )


class RedisJournal:
    def __init__(self, link: RedisLink, writer: JournalWriter, prefix: str, capacity: int, max_bytes: int) -> None:
        self._link = link
        self._writer = writer
        self._keys = [prefix + ":journal", prefix + ":journal-bytes", prefix + ":journal-id"]
        self._capacity = capacity
        self._max_bytes = max_bytes

    def record(self, entry: JournalEntry) -> None:
        self._writer.put(self._keys, entry, self._capacity, self._max_bytes)

    def entries(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None, limit: int = 100
    ) -> tuple[list[JournalEntry], int]:
        self._writer.flush()
        raw = self._link.call(lambda client: client.lrange(self._keys[0], 0, -1))
        found = matching((decoded(item) for item in raw), method, path, status)
        return found[:limit], len(found)

    def clear(self) -> None:
        self._writer.flush()
        self._link.call(lambda client: client.delete(self._keys[0], self._keys[1]), "count")

    @property
    def bytes_held(self) -> int:
        self._writer.flush()
        return int(text(self._link.call(lambda client: client.get(self._keys[1])) or 0))

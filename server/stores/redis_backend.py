"""The ``redis://`` backend: one state for every process and host that names the same Redis.

Each sandbox's keys start with ``{namespace:sandbox}`` (one Redis Cluster hash slot per
sandbox); every write that must be atomic is one Lua script (``redis_scripts``). The clock's
reading, the fault plan and its seeded sequence, the rate-limit windows, the concurrency
slots, the timers and the journal are all here too, so ``advance`` on one process moves the
clock of all, a limit of 10/s is 10/s across workers, and a due timer fires once.

Every call has a bounded timeout. Redis down or restarting answers 503 with ``Retry-After``
(``StoreUnavailable``) and one log line, never a hang or a 500; the next request after it
returns is served as usual (the connection pool reconnects; scripts are loaded again). A Redis
that came back without the namespace's state is told apart by the namespace marker
(``redis_namespace``): 503 ``StoreLost`` until an admin reset, never an empty world. At start
(``open``) a Redis that may evict keys, or a namespace another contract wrote, is refused.

A sandbox's keys are enumerable from its own keys (its fixed keys, a status key per status in
use, an event list per campaign, rate-limit buckets in its key ring), so dropping or resetting
it costs in proportion to what it holds, in bounded batches, never a SCAN of the keyspace.
Concurrency slots are not listed: they expire within two leases by themselves.

Past ~300 lines because each store protocol has its Redis half here beside the link they
share; the scripts (``redis_scripts``), the link's error handling (``redis_link``), the
journal (``redis_journal``) and the namespace marker (``redis_namespace``) live apart.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from campaign_mock.contract.integers import whole_number
from campaign_mock.contract.jsontext import json_ascii
from campaign_mock.server.domain.clock import ClockReading
from campaign_mock.server.domain.errors import StoreUnavailable
from campaign_mock.server.domain.ids import IdGenerator, SequentialIds
from campaign_mock.server.stores.base import (
    AddOutcome,
    Campaign,
    Event,
    Record,
    SandboxIndex,
    StaleVersion,
    StoreFull,
    WorldSpec,
    WorldStores,
)
from campaign_mock.server.stores.redis_journal import JournalWriter, RedisJournal
from campaign_mock.server.stores.redis_link import RedisLink, connect, text
from campaign_mock.server.stores.redis_namespace import DEFAULT_WORLD, Namespace, RedisRefused
from campaign_mock.server.stores.scope import Primed, prime, primed
from campaign_mock.server.traffic.concurrency import ConcurrencyLimit, GateFull
from campaign_mock.server.traffic.faults import DRAWS_PER_DECISION
from campaign_mock.server.traffic.ratelimit import (
    Decision,
    Window,
    fixed_window_decision,
    token_bucket_decision,
)

WINDOW_KEEP_SECONDS = 86_400  # rate-limit keys outlive their windows by this much of real time
GATE_LEASE_SECONDS = 60  # a slot held by a process that died frees itself after this
GATE_POLL_SECONDS = 0.005
DEFAULT_NAMESPACE = "campaign-mock"
FORGET_BATCH = 500  # keys per UNLINK (and per HSCAN/SSCAN step) when a sandbox is dropped or reset
FIXED_KEYS = ("docs", "status", "ver", "order", "seq", "timers", "page-union")
WORLD_KEYS = (*FIXED_KEYS, "ids", "clock", "faults", "journal", "journal-bytes", "journal-id", "keyring")
EVICTING = ("allkeys-", "volatile-")
log = logging.getLogger("campaign_mock.store")


class RedisRequestStart:
    """The one round trip at a request's start that answers the questions every request asks,
    and checks the world's epoch against the namespace's (no command of its own)."""

    def __init__(self, link: RedisLink, namespace: Namespace, prefix: str, world: str) -> None:
        self._link = link
        self._namespace = namespace
        self._prefix = prefix
        self._world = world

    def __call__(self, host_now: float) -> None:
        self._link.begin_request()
        offset, frozen, empty, due, epoch = self._link.run(
            "BEGIN", [self._prefix + ":clock"], [self._prefix, repr(host_now)], despite_lost=True
        )
        self._namespace.check(self._world, offset is not None or epoch is not None, epoch)
        clock = _reading([offset, frozen])
        prime(self._prefix, Primed(clock, None if empty == -1 else bool(empty), None if clock is None else due > 0))


class RedisCampaignStore:
    def __init__(
        self, link: RedisLink, namespace: Namespace, prefix: str, world: str, status_field: str, capacity: int | None
    ) -> None:
        self._link = link
        self._namespace = namespace
        self._prefix = prefix
        self._world = world
        self._status_field = status_field
        self._capacity = -1 if capacity is None else capacity

    def insert(self, campaign_id: str, campaign: Campaign, events: Iterable[Event] = (), version: int = 1) -> Record:
        document = json_ascii(campaign)
        history = [json_ascii(event) for event in events]
        status = str(campaign.get(self._status_field))
        answer = self._link.run(
            "INSERT",
            [self._prefix + ":docs"],
            [self._prefix, campaign_id, document, status, version, self._capacity, self._namespace.epoch, *history],
        )
        if answer == -1:
            raise StaleVersion(f"campaign {campaign_id!r} exists already")
        if answer == -2:
            raise StoreFull(self._capacity)
        return Record(json.loads(document), version, len(history))

    def get(self, campaign_id: str) -> Record | None:
        answer = self._link.run("GET", [self._prefix + ":docs"], [self._prefix, campaign_id])
        if not answer:
            return None
        document, version, count = answer
        return Record(json.loads(document), int(version), int(count))

    def replace(self, campaign_id: str, expected_version: int, campaign: Campaign, event: Event | None) -> Record:
        document = json_ascii(campaign)
        answer = self._link.run(
            "REPLACE",
            [self._prefix + ":docs"],
            [
                self._prefix,
                campaign_id,
                expected_version,
                document,
                str(campaign.get(self._status_field)),
                "" if event is None else json_ascii(event),
                self._namespace.epoch,
            ],
        )
        if not answer:
            raise StaleVersion(campaign_id)
        return Record(json.loads(document), int(answer[0]), int(answer[1]))

    def delete(self, campaign_id: str) -> bool:
        return bool(
            self._link.run("DELETE", [self._prefix + ":docs"], [self._prefix, campaign_id, self._namespace.epoch])
        )

    def count(self) -> int:
        return int(self._link.call(lambda client: client.hlen(self._prefix + ":docs")))

    def events(self, campaign_id: str, offset: int = 0, limit: int | None = None) -> tuple[list[Event], int] | None:
        last = -1 if limit is None else offset + limit - 1
        answer = self._link.run("EVENTS", [self._prefix + ":docs"], [self._prefix, campaign_id, offset, last])
        if not answer:
            return None
        count, page = answer
        return [json.loads(item) for item in page], int(count)

    def page(
        self,
        status_field: str,
        statuses: frozenset[str] | None,
        offset: int,
        limit: int,
        match: Callable[[Campaign], bool] | None = None,
    ) -> tuple[list[Campaign], int]:
        indexed = status_field == self._status_field
        if statuses is not None and not statuses:
            return [], 0
        chosen = sorted(statuses) if statuses is not None and indexed else []
        if match is None and (statuses is None or indexed):
            total, documents = self._link.run(
                "PAGE", [self._prefix + ":docs"], [self._prefix, offset, offset + limit - 1, *chosen]
            )
            return [json.loads(document) for document in documents if document is not None], int(total)
        _, documents = self._link.run("PAGE", [self._prefix + ":docs"], [self._prefix, 0, -1, *chosen])
        kept = [
            campaign
            for campaign in (json.loads(document) for document in documents if document is not None)
            if (statuses is None or campaign.get(status_field) in statuses) and (match is None or match(campaign))
        ]
        return kept[offset : offset + limit], len(kept)

    def reset(self) -> None:
        """Forget every campaign. The default sandbox's reset is the namespace's: it starts a new
        epoch, which is how a namespace that lost its state is served again (``redis_namespace``)."""
        if self._world == DEFAULT_WORLD:
            self._namespace.resume()
        self._link.call(lambda client: forget_campaigns(client, self._prefix, FIXED_KEYS), "write")


def forget_campaigns(client: redis.Redis, prefix: str, fixed: Sequence[str]) -> None:
    """UNLINK a world's campaign keys, found from its own keys: an event list per campaign (HSCAN
    of its documents), a status index per status in use (HSCAN of its statuses), then ``fixed``
    (the hashes read last go last, so a drop cut short can be done again)."""
    statuses: set[str] = set()
    batch: list[str] = []
    # Every campaign has a status; its documents are walked too only when the two disagree (a loss).
    walks = [prefix + ":status"]
    if client.hlen(prefix + ":status") != client.hlen(prefix + ":docs"):
        walks.append(prefix + ":docs")
    for walked in walks:
        for campaign_id, status in client.hscan_iter(walked, count=FORGET_BATCH):
            if walked.endswith(":status"):
                statuses.add(text(status))
            batch.append(f"{prefix}:ev:{text(campaign_id)}")
            if len(batch) >= FORGET_BATCH:
                client.unlink(*batch)
                batch = []
    batch.extend(f"{prefix}:st:{status}" for status in statuses)
    batch.extend(f"{prefix}:{name}" for name in fixed)
    for start in range(0, len(batch), FORGET_BATCH):
        client.unlink(*batch[start : start + FORGET_BATCH])


def forget_ring(client: redis.Redis, prefix: str, part: str = "") -> None:
    """UNLINK the keys named in a world's key ring (rate-limit buckets) whose name holds ``part``."""
    ring = prefix + ":keyring"
    batch: list[str] = []
    for key in client.sscan_iter(ring, count=FORGET_BATCH):
        name = text(key)
        if part in name:
            batch.append(name)
        if len(batch) >= FORGET_BATCH:
            client.unlink(*batch)
            client.srem(ring, *batch)
            batch = []
    if batch:
        client.unlink(*batch)
        client.srem(ring, *batch)


class RedisTimers:
    def __init__(self, link: RedisLink, prefix: str) -> None:
        self._link = link
        self._prefix = prefix

    def schedule(self, campaign_id: str, moment: datetime) -> None:
        # LT: an earlier moment replaces a later one; a later one waits for the earlier to pop.
        self._link.call(
            lambda client: client.zadd(self._prefix + ":timers", {campaign_id: moment.timestamp()}, lt=True), "count"
        )
        known = primed(self._prefix)
        if known is not None:
            known.timer_due = None

    def pop_due(self, now: datetime) -> list[str]:
        known = primed(self._prefix)
        if known is not None and known.timer_due is False:
            return []
        answer = self._link.run("POP_DUE", [self._prefix + ":timers"], [self._prefix, repr(now.timestamp())])
        return [text(item) for item in answer]

    def clear(self) -> None:
        self._link.call(lambda client: client.delete(self._prefix + ":timers"), "count")


class RedisSequentialIds:
    """``cmp_1``, ``cmp_2``, ... from one counter every process shares, above the namespace's
    floor (raised by the reset after a loss, so ids old clients hold are not issued again)."""

    def __init__(self, link: RedisLink, namespace: Namespace, prefix: str, id_prefix: str) -> None:
        self._link = link
        self._namespace = namespace
        self._key = prefix + ":ids"
        self._id_prefix = id_prefix

    def new_id(self) -> str:
        return f"{self._id_prefix}{self._link.run('NEW_ID', [self._key], [self._namespace.floor])}"

    def observe(self, campaign_id: str) -> None:
        if not campaign_id.startswith(self._id_prefix):
            return
        number = whole_number(campaign_id.removeprefix(self._id_prefix))
        if number is not None:
            self._link.run("OBSERVE_ID", [self._key], [number])

    def fresh(self) -> IdGenerator:
        return SequentialIds(self._id_prefix)

    def restart(self) -> None:
        """A world's reset: count from 1 again (above the namespace's floor, as ``new_id`` does)."""
        self._link.call(lambda client: client.delete(self._key), "write")


class RedisClockState:
    """The clock's reading in a hash: ``offset`` and ``frozen_at`` ('' when running), and the
    namespace's ``epoch`` it was written in."""

    def __init__(self, link: RedisLink, namespace: Namespace, prefix: str) -> None:
        self._link = link
        self._namespace = namespace
        self._prefix = prefix
        self._key = prefix + ":clock"

    def read(self) -> ClockReading | None:
        known = primed(self._prefix)
        if known is not None and known.clock is not None:
            return known.clock
        held = self._link.call(lambda client: client.hmget(self._key, "offset", "frozen_at"))
        return _reading(held)

    def update(self, change: Callable[[ClockReading], ClockReading]) -> ClockReading:
        """Read, change and write under WATCH: two processes advancing at once both count."""
        result: list[ClockReading] = []

        def attempt(pipe: Any) -> None:
            current = _reading(pipe.hmget(self._key, "offset", "frozen_at")) or ClockReading()
            changed = change(current)
            pipe.multi()
            frozen = "" if changed.frozen_at is None else repr(changed.frozen_at)
            epoch = self._namespace.epoch
            pipe.hset(self._key, mapping={"offset": repr(changed.offset), "frozen_at": frozen, "epoch": epoch})
            result[:] = [changed]

        self._link.call(lambda client: client.transaction(attempt, self._key), "write")
        known = primed(self._prefix)
        if known is not None:
            known.clock, known.timer_due = result[0], None  # the rest of the request sees the move
        return result[0]


def _reading(held: Sequence[Any]) -> ClockReading | None:
    offset, frozen = held
    if offset is None:
        return None
    frozen_text = text(frozen) if frozen is not None else ""
    return ClockReading(float(text(offset)), float(frozen_text) if frozen_text else None)


class RedisFaultState:
    def __init__(self, link: RedisLink, prefix: str) -> None:
        self._link = link
        self._prefix = prefix
        self._key = prefix + ":faults"

    def plan(self) -> tuple[list[dict[str, Any]], int, int]:
        rules, seed, version = self._link.call(lambda client: client.hmget(self._key, "rules", "seed", "version"))
        if version is None:
            return [], 0, 0
        return json.loads(text(rules)), int(text(seed)), int(text(version))

    def replace(self, rules: list[dict[str, Any]], seed: int) -> None:
        self._link.run("FAULTS_REPLACE", [self._key], [json_ascii(rules), seed])
        known = primed(self._prefix)
        if known is not None:
            known.faults_empty = not rules

    def advance(self) -> tuple[int, int | None]:
        known = primed(self._prefix)
        if known is not None and known.faults_empty:
            return 0, None  # no plan in force: no draw to take, no round trip
        version, first = self._link.run("FAULTS_ADVANCE", [self._key], [DRAWS_PER_DECISION])
        return int(version), (None if first is None else int(first))


class RedisLimiter:
    """Fixed windows or token buckets counted by a script, at the mock's clock (passed in:
    the windows follow the controllable clock, not Redis' or the host's)."""

    def __init__(self, link: RedisLink, prefix: str, algorithm: str, windows: Sequence[Window]) -> None:
        self._link = link
        self._prefix = prefix
        self._fixed = algorithm == "fixed-window"
        self._windows = tuple(windows)
        self._limits = [value for window in windows for value in (window.limit, window.seconds)]

    def hit(self, bucket: str, now: datetime) -> Decision:
        at = now.timestamp()
        key = f"{self._prefix}:rl:{bucket}"
        keep = WINDOW_KEEP_SECONDS + max(window.seconds for window in self._windows)
        answer = self._link.run(
            "FIXED_WINDOW" if self._fixed else "REFILLING_BUCKET",
            [key, self._prefix + ":keyring"],
            [repr(at), keep, *self._limits],
        )
        pairs = answer[1:]
        if self._fixed:
            held_counts = [(float(text(pairs[i])), int(pairs[i + 1])) for i in range(0, len(pairs), 2)]
            return fixed_window_decision(self._windows, at, held_counts)[0]
        held_tokens = [(float(text(pairs[i])), float(text(pairs[i + 1]))) for i in range(0, len(pairs), 2)]
        return token_bucket_decision(self._windows, at, held_tokens)[0]

    def reset(self) -> None:
        self._link.call(lambda client: forget_ring(client, self._prefix, ":rl:"), "count")


class RedisGate:
    """A concurrency limit every process shares: slots and a bounded queue in sorted sets, with
    leases so a process that dies holding one does not hold it for ever."""

    def __init__(self, link: RedisLink, prefix: str, bucket: str, limit: ConcurrencyLimit) -> None:
        self._link = link
        self._keys = [f"{prefix}:gate:{bucket}", f"{prefix}:gateq:{bucket}"]
        self._limit = limit
        self._held = threading.local()

    def acquire(self) -> None:
        limit = self._limit
        retry = max(1, round(limit.wait_seconds))
        token = secrets.token_hex(8)
        deadline = time.monotonic() + limit.wait_seconds
        while True:
            answer = self._link.run("GATE_TAKE", self._keys, [token, limit.limit, limit.queue, GATE_LEASE_SECONDS])
            if answer == 1:
                self._held.token = token
                return
            if answer == -1:
                raise GateFull(f"{limit.limit} request(s) in progress and {limit.queue} waiting already", retry)
            if time.monotonic() >= deadline:
                self._link.call(lambda client: client.zrem(self._keys[1], token), "count")
                raise GateFull(f"no slot came free within {limit.wait_seconds:g} s", retry)
            time.sleep(GATE_POLL_SECONDS)

    def release(self) -> None:
        token = getattr(self._held, "token", None)
        if token is not None:
            self._held.token = None
            self._link.call(lambda client: client.zrem(self._keys[0], token), "count")


class RedisSandboxIndex:
    """The sandboxes every process sees: a sorted set of names by when each was last used."""

    def __init__(self, link: RedisLink, namespace: str) -> None:
        self._link = link
        self._key = f"{namespace}:sandboxes"

    def add(self, name: str, now: float, limit: int) -> AddOutcome:
        outcome = text(self._link.run("SANDBOX_ADD", [self._key], [name, repr(now), limit]))
        return "added" if outcome == "added" else "full" if outcome == "full" else "exists"

    def remove(self, name: str) -> bool:
        return bool(self._link.call(lambda client: client.zrem(self._key, name)))

    def contains(self, name: str) -> bool:
        return self._link.call(lambda client: client.zscore(self._key, name)) is not None

    def names(self) -> list[str]:
        return sorted(text(name) for name in self._link.call(lambda client: client.zrange(self._key, 0, -1)))

    def count(self) -> int:
        return int(self._link.call(lambda client: client.zcard(self._key)))

    def touch(self, name: str, now: float) -> None:
        self._link.call(lambda client: client.zadd(self._key, {name: now}, xx=True))

    def last_used(self, name: str) -> float | None:
        score = self._link.call(lambda client: client.zscore(self._key, name))
        return None if score is None else float(score)

    def idle_since(self, before: float) -> list[str]:
        return [
            text(name) for name in self._link.call(lambda client: client.zrangebyscore(self._key, "-inf", f"({before}"))
        ]


@dataclass(frozen=True)
class RedisOptions:
    url: str
    namespace: str = DEFAULT_NAMESPACE


class RedisBackend:
    kind = "redis"
    shared = True

    def __init__(self, options: RedisOptions, client: redis.Redis | None = None) -> None:
        self._options = options
        self._namespace = options.namespace
        self._link = RedisLink(options.url, client or connect(options.url))
        self._marker = Namespace(self._link, self._namespace)
        self._journal_writer = JournalWriter(self._link, self._namespace)
        self._index = RedisSandboxIndex(self._link, self._namespace)

    def describe(self) -> str:
        return f"{self._link.url} (namespace {self._namespace})"

    def prefix(self, sandbox: str) -> str:
        """The start of every key of ``sandbox``: its Redis Cluster hash tag."""
        return f"{{{self._namespace}:{sandbox}}}"

    def ping(self) -> None:
        """StoreUnavailable unless Redis answers now (at start: the caller says so in one line)."""
        try:
            self._link.client.ping()
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    def open(self, identity: str) -> None:
        """At start, before anything listens: Redis answers (StoreUnavailable), may not evict the
        mock's keys and the namespace was not written for another contract (RedisRefused), and
        takes a write (StoreOutOfSpace when it is full)."""
        self.ping()
        self._check_eviction()
        self._marker.open(identity)

    def _check_eviction(self) -> None:
        """Refuse a Redis whose ``maxmemory-policy`` may evict the mock's keys: acknowledged
        campaigns, the clock or a sandbox would vanish. ``volatile-*`` too: rate-limit windows
        and concurrency slots carry TTLs. A Redis that does not let us read it (CONFIG renamed
        or forbidden, as managed ones do) is served with a warning."""
        try:
            held = self._link.client.config_get("maxmemory-policy")
        except redis.ResponseError as exc:
            log.warning(
                "cannot read the maxmemory-policy of the Redis store %s (%s); make sure it is noeviction, or "
                "Redis may evict the mock's state under memory pressure",
                self._link.url,
                exc,
            )
            return
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        policy = text(held.get("maxmemory-policy", "")) if isinstance(held, dict) else ""
        if policy.startswith(EVICTING):
            raise RedisRefused(
                f"the Redis store {self._link.url} may evict the mock's keys (maxmemory-policy {policy}): "
                "acknowledged campaigns would vanish when it fills; set maxmemory-policy noeviction "
                "(CONFIG SET maxmemory-policy noeviction, or in redis.conf), or give another --store"
            )

    def world(self, name: str, spec: WorldSpec) -> WorldStores:
        prefix = self.prefix(name)
        if spec.journal_budget is not None:  # --journal-total-bytes: here, for the whole namespace
            self._journal_writer.budget = spec.journal_budget.max_bytes
        marker = self._marker
        marker.ensure_open()
        # The world carries the namespace's epoch from its first moment (its clock is written next).
        self._link.call(lambda client: client.hsetnx(prefix + ":clock", "epoch", marker.epoch), "count")
        ids = spec.ids
        if isinstance(ids, SequentialIds):
            ids = RedisSequentialIds(self._link, marker, prefix, ids.prefix)
        elif name != "default":
            ids = ids.fresh()
        link = self._link
        return WorldStores(
            campaigns=RedisCampaignStore(link, marker, prefix, name, spec.status_field, spec.max_campaigns),
            timers=RedisTimers(link, prefix),
            ids=ids,
            clock=RedisClockState(link, marker, prefix),
            faults=RedisFaultState(link, prefix),
            journal=RedisJournal(link, self._journal_writer, prefix, spec.journal_size, spec.journal_bytes),
            limiter=lambda algorithm, windows: RedisLimiter(link, prefix, algorithm, windows),
            gate=lambda bucket, limit: RedisGate(link, prefix, bucket, limit),
            begin=RedisRequestStart(link, marker, prefix, name),
        )

    def drop(self, name: str) -> None:
        """Forget everything the sandbox holds: its own keys, found from its own keys."""
        prefix = self.prefix(name)

        def forget(client: redis.Redis) -> None:
            forget_ring(client, prefix)
            forget_campaigns(client, prefix, WORLD_KEYS)

        self._link.call(forget, "count")

    @property
    def sandboxes(self) -> SandboxIndex:
        return self._index

    def close(self) -> None:
        # Entries still queued go out first (bounded wait): closing the pool under the writer
        # made redis-py fail mid-pipeline and lost them.
        self._journal_writer.flush()
        self._link.client.close()

"""The namespace marker: how a mock on Redis tells its namespace's state from an empty or
foreign one, instead of serving an empty world (and issuing ids again) after Redis restarted
empty, was flushed or evicted keys.

``NAMESPACE:marker`` is a hash written when a namespace is first used: ``epoch`` (a random
token, new each time the namespace starts afresh), ``spec`` (the title of the contract that
wrote it: a mock serving another contract is refused at start, as a SQLite file is), ``made``
(``start`` or ``reset``) and ``floor`` (sequential ids continue above it). Each world's clock
hash carries the epoch it was written in; the request's first script (``BEGIN``) reads it with
the clock, so the check costs no command and no round trip. The write scripts compare it too.
Only when it differs is the marker read (one round trip), and then:

- the marker is gone, or another process made the namespace afresh at its start: the state
  this process served is lost. Every call answers 503 ``StoreLost`` (logged once) until
  ``POST /__admin/reset`` (the default sandbox's, the namespace's admin) starts it afresh with
  a new epoch; a sandbox's own reset does not;
- another process did that reset: this process takes the new epoch and serves again;
- a sandbox's clock is missing while the marker is ours: a sandbox made or dropped elsewhere,
  served as before; the default sandbox's missing is a loss.

Ids: a reset after a loss sets ``floor`` to the current Unix time in seconds (and above the
floor before), and every sandbox's sequential counter continues above it, so an id an old
client still holds (counters start at 1 and grow by one per create) is not issued again.
A namespace found empty at start cannot be told from a new one: run Redis with persistence.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any

import redis

from campaign_mock.server.domain.errors import StoreLost, StoreOutOfSpace, StoreUnavailable
from campaign_mock.server.stores import redis_scripts
from campaign_mock.server.stores.redis_link import RedisLink, text

log = logging.getLogger("campaign_mock.store")
DEFAULT_WORLD = "default"
STAMP = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'epoch', ARGV[1]) end return 1"


class RedisRefused(Exception):
    """This Redis or namespace cannot be served by this mock (another contract wrote it, or
    Redis may evict its keys); the message is one line for the user."""


class Namespace:
    """This process's view of the namespace's epoch, and the judge of a world that differs."""

    def __init__(self, link: RedisLink, namespace: str) -> None:
        self.name = namespace
        self.key = f"{namespace}:marker"
        self.epoch = ""
        self.floor = 0
        self.identity: str | None = None
        self._link = link
        self._lock = threading.Lock()
        link.on_stale_epoch = self._stale_write

    def clock_key(self, world: str) -> str:
        return f"{{{self.name}:{world}}}:clock"

    # -- opening -----------------------------------------------------------------------------

    def open(self, identity: str | None) -> None:
        """Read the marker, or write it for a new namespace (a write, so a full Redis says so
        now). RedisRefused if another contract wrote it; StoreUnavailable/StoreOutOfSpace
        if Redis cannot be used."""
        token = secrets.token_hex(8)
        source = redis_scripts.MARKER_OPEN
        try:  # straight to the client: at start a full Redis is one line, not a log line and a 507
            epoch, spec, floor = self._link.client.execute_command(  # type: ignore[no-untyped-call]
                "EVAL", source, 1, self.key, token, identity or "", repr(time.time())
            )
        except redis.exceptions.OutOfMemoryError as exc:
            raise StoreOutOfSpace(str(exc)) from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        held = text(spec)
        if identity and held and held != identity:
            raise RedisRefused(
                f"the Redis namespace {self.name!r} at {self._link.url} holds the campaigns of {held!r}, not "
                f"{identity!r}; give another --store-namespace, or serve the spec it belongs to"
            )
        self.epoch, self.floor, self.identity = text(epoch), int(floor), identity

    def ensure_open(self) -> None:
        """Open without a contract to check (a backend made directly, as tests do)."""
        if not self.epoch:
            with self._lock:
                if not self.epoch:
                    self.open(self.identity)

    # -- the check -----------------------------------------------------------------------------

    def check(self, world: str, clock_held: bool, stamped: Any) -> None:
        """After a world's ``BEGIN``: ``clock_held`` whether its clock hash exists, ``stamped`` the
        epoch it carries. Sets or clears ``link.lost``; the hot path compares one string."""
        if self._link.lost is None and stamped is not None and text(stamped) == self.epoch:
            return
        with self._lock:
            self._judge(world, clock_held, None if stamped is None else text(stamped))

    def _judge(self, world: str, clock_held: bool, stamped: str | None) -> None:
        epoch, made, floor = self._link.call(
            lambda client: client.hmget(self.key, "epoch", "made", "floor"), despite_lost=True
        )
        if epoch is None:
            self._lose("its marker is gone: Redis restarted empty, was flushed, or evicted it")
            return
        if text(epoch) != self.epoch:
            if text(made) != "reset":
                self._lose(f"another process started it afresh (epoch {text(epoch)}) after it was lost here")
                return
            self._adopt(text(epoch), int(floor or 0))
        if not clock_held and world == DEFAULT_WORLD and stamped is None:
            self._lose("the default sandbox's clock is gone: Redis evicted or deleted keys")
            return
        if clock_held and stamped != self.epoch:  # a world written before this epoch (or before markers)
            self._link.call(
                lambda client: client.execute_command(  # type: ignore[no-untyped-call]
                    "EVAL", STAMP, 1, self.clock_key(world), self.epoch
                ),
                "count",
                despite_lost=True,
            )

    def _stale_write(self, reply: str) -> Exception:
        """A write script found its world's clock in another epoch than this process's, or gone
        (its reply names the world's key prefix)."""
        parts = reply.split()
        prefix = parts[1] if len(parts) > 1 else ""
        world = prefix.strip("{}").removeprefix(f"{self.name}:") or DEFAULT_WORLD
        offset, stamped = self._link.call(
            lambda client: client.hmget(self.clock_key(world), "offset", "epoch"), despite_lost=True
        )
        with self._lock:
            self._judge(world, offset is not None or stamped is not None, None if stamped is None else text(stamped))
        if self._link.lost is not None:
            return StoreLost(self._link.lost)
        return StoreLost(
            f"The state of sandbox {world!r} changed under this request (reset or dropped while it ran); "
            "nothing of this request was kept. Retry."
        )

    def _lose(self, why: str) -> None:
        if self._link.lost is None:
            log.error(
                "the Redis store %s lost the state of namespace %r (%s): answering 503 until "
                "POST /__admin/reset starts it afresh",
                self._link.url,
                self.name,
                why,
            )
        self._link.lost = (
            f"The Redis store {self._link.url} lost the state of namespace {self.name!r} ({why}); the mock "
            "does not serve an empty world in its place nor issue its ids again. POST /__admin/reset (the "
            "default sandbox's, with the admin key) starts the namespace afresh: every campaign in it is gone."
        )

    def _adopt(self, epoch: str, floor: int) -> None:
        self.epoch, self.floor = epoch, floor
        if self._link.lost is not None:
            self._resumed("another process reset it")

    def _resumed(self, why: str) -> None:
        self._link.lost = None
        self._link.forget_said()
        log.warning("the Redis namespace %r is served again (%s; epoch %s)", self.name, why, self.epoch)

    # -- the reset that resumes -----------------------------------------------------------------

    def resume(self) -> None:
        """The default sandbox's admin reset: a new epoch, which every process takes (so one that
        found the namespace lost serves again), and after a loss ids above a new floor."""
        with self._lock:
            lost = self._link.lost is not None
            epoch = secrets.token_hex(8)
            floor = max(int(time.time()), self.floor + 1) if lost else self.floor

            def write(client: redis.Redis) -> None:
                # The default clock first: a process that sees the new marker finds its world stamped.
                client.hset(self.clock_key(DEFAULT_WORLD), "epoch", epoch)
                spec = self.identity or ""
                client.hset(self.key, mapping={"epoch": epoch, "made": "reset", "floor": floor, "spec": spec})

            self._link.call(write, "write", despite_lost=True)
            self.epoch, self.floor = epoch, floor
            if lost:
                self._resumed(f"an admin reset started it afresh; ids continue above {floor}")

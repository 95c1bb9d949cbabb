"""The connection to Redis: a client with bounded timeouts, the Lua scripts, and the one place
a Redis error becomes an answer: 503 (``StoreUnavailable``) saying truthfully what became of
the request, 503 ``StoreLost`` when the namespace lost its state, 507 ``StoreOutOfSpace`` when
Redis is full; and a log line once per outage, not once per request.

What a failure says depends on whether the command reached Redis:
- it was never sent (no connection could be made, or the socket was found closed before
  sending): nothing of it was kept;
- it was sent and no answer came (a timeout, a connection dropped while waiting): a write may
  or may not have been applied (Redis may run it later, or have run it and died before
  answering), so the answer says the outcome is unknown and how to find out; a read is sent
  again once on a dropped connection (reading twice changes nothing).
redis-py's own retry is off for this reason: it sent a write again after a dropped connection.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from campaign_mock.server.domain.errors import StoreLost, StoreOutcomeUnknown, StoreOutOfSpace, StoreUnavailable
from campaign_mock.server.stores import redis_scripts

log = logging.getLogger("campaign_mock.store")
T = TypeVar("T")

SOCKET_TIMEOUT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 1.0
QUIET_SECONDS = 10.0
"""An outage that starts within this long of the last line about the store is counted, not
logged: a flapping Redis makes at most two lines per this long, per process."""

Kind = Literal["read", "write", "count"]
"""What a command does: ``read`` changes nothing (sent again once after a dropped connection);
``write`` changes the client's data (campaigns, the clock, the fault plan): when its answer is
lost its outcome is unknown; ``count`` keeps the mock's own books (rate-limit windows, slots,
draws, id counters, timer pops): the client's data is not in it."""

READ_SCRIPTS = frozenset({"BEGIN", "GET", "EVENTS", "PAGE"})
WRITE_SCRIPTS = frozenset({"INSERT", "REPLACE", "DELETE", "FAULTS_REPLACE"})
LOST_REPLY = "LOST"  # a script found a key missing that its other keys say exists
EPOCH_REPLY = "EPOCH"  # a write script found its world written in another epoch than this process's

# What this request has written so far ("" nothing, "kept": a write was answered): a failure
# after that must not say nothing was kept. Reset at each request's start (``begin_request``).
_written: ContextVar[str] = ContextVar("campaign_mock_redis_written", default="")


def shown_url(url: str) -> str:
    """The URL without its password, for the startup line, logs and the admin config."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:" if parts.username else ":"
    netloc = f"{user}***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class LuaScript:
    name: str
    source: str
    sha: str


class NotSent(Exception):
    """The command never left this process: no connection could be made."""


class Outages:
    """One line when the store fails and one when it is back, with how many requests failed.

    Shared by every thread of the process, under a lock: a thread that fails while another
    succeeds does not make a pair of lines each time. An outage that begins within
    ``QUIET_SECONDS`` of the last line is counted silently and told by the next "is back"."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._lock = threading.Lock()
        self.down = False
        self._last_line = -QUIET_SECONDS
        self._said_down = False
        self._failed = 0
        self._outages = 0
        self._since = 0.0

    def failed(self, exc: Exception, request: bool = True) -> None:
        now = time.monotonic()
        with self._lock:
            self._failed += request
            if self.down:
                return
            self.down = True
            self._outages += 1
            if self._outages == 1:
                self._since = now
            if now - self._last_line < QUIET_SECONDS:
                return
            self._last_line, self._said_down = now, True
        log.error("the Redis store %s failed: %s; answering 503 until it is back", self._url, exc)

    def succeeded(self) -> None:
        if not self.down:  # the hot path: one attribute read
            return
        now = time.monotonic()
        with self._lock:
            if not self.down:
                return
            self.down = False
            if not self._said_down and now - self._last_line < QUIET_SECONDS:
                return  # a flap: told with the next line
            failed, outages, since = self._failed, self._outages, now - self._since
            self._failed = self._outages = 0
            self._last_line, self._said_down = now, False
        flaps = f" in {outages} outages" if outages > 1 else ""
        log.warning("the Redis store %s is back: %d request(s) failed%s over %.1f s", self._url, failed, flaps, since)


class RedisLink:
    """The client, its scripts, and the one place Redis errors become answers and log lines.

    Each thread talks through a client of its own that keeps one connection (no pool to take
    from and give back, no readiness poll per command), and scripts go as bare EVALSHA: on
    this machine that halved a script's round trip (218 to 118 microseconds) against
    redis-py's pooled client and ``Script`` object. A thread in a forked process (a granian
    worker) makes its own client again."""

    def __init__(self, url: str, client: redis.Redis) -> None:
        self.url = shown_url(url)
        self.client = client  # the shared, pooled one: setup, pipelines, transactions
        self.outages = Outages(self.url)
        self.lost: str | None = None  # set by the namespace check: every call answers StoreLost
        self.on_stale_epoch: Callable[[str], Exception] | None = None  # the namespace's judgement
        self._said_lost: set[str] = set()
        self._local = threading.local()
        self._scripts = {
            name: LuaScript(name, source, hashlib.sha1(source.encode()).hexdigest())  # noqa: S324 (Redis names scripts by SHA-1)
            for name in dir(redis_scripts)
            if name.isupper() and not name.startswith("_") and isinstance(source := getattr(redis_scripts, name), str)
        }

    def _own_client(self) -> redis.Redis:
        held: tuple[int, redis.Redis] | None = getattr(self._local, "client", None)
        if held is None or held[0] != os.getpid():
            own = redis.Redis(connection_pool=self.client.connection_pool, single_connection_client=True)
            held = (os.getpid(), own)
            self._local.client = held
        return held[1]

    @staticmethod
    def begin_request() -> None:
        """A request starts on this thread: nothing of it is written yet."""
        _written.set("")

    def run(self, script: str, keys: Sequence[str], args: Sequence[Any], *, despite_lost: bool = False) -> Any:
        """Run a script of ``redis_scripts`` by name (sending its source once when Redis has not got
        it: after a restart, or on first use). ``despite_lost``: the request's start, which checks."""
        lua = self._scripts[script]
        kind: Kind = "read" if script in READ_SCRIPTS else "write" if script in WRITE_SCRIPTS else "count"

        def evaluate(client: redis.Redis) -> Any:
            try:
                return client.execute_command("EVALSHA", lua.sha, len(keys), *keys, *args)  # type: ignore[no-untyped-call]
            except redis.exceptions.NoScriptError:
                return client.execute_command("EVAL", lua.source, len(keys), *keys, *args)  # type: ignore[no-untyped-call]

        return self.call(evaluate, kind, despite_lost=despite_lost)

    def queue(self, pipe: Any, script: str, keys: Sequence[str], args: Sequence[Any]) -> None:
        """Add a script's run to a pipeline, by its digest (``load`` it first, and again when the
        pipeline meets a NoScriptError: a pipeline cannot fall back to EVAL for one command)."""
        pipe.execute_command("EVALSHA", self._scripts[script].sha, len(keys), *keys, *args)

    def load(self, script: str) -> None:
        """Send a script's source to Redis, so EVALSHA finds it (at start, and after a restart)."""
        self.call(lambda client: client.script_load(self._scripts[script].source), "read")

    def call(self, action: Callable[[redis.Redis], T], kind: Kind = "read", *, despite_lost: bool = False) -> T:
        """``action`` on this thread's client, its failure turned into the answer that tells the
        truth about it. ``despite_lost``: the namespace check and the reset that resumes it."""
        if self.lost is not None and not despite_lost:
            raise StoreLost(self.lost)
        try:
            try:
                result = self._attempt(action, kind)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if kind != "read" or isinstance(exc, redis.TimeoutError):
                    raise
                result = self._attempt(action, kind)  # a dropped connection: a read is sent again once
        except NotSent as not_sent:
            cause = not_sent.__cause__ if isinstance(not_sent.__cause__, Exception) else not_sent
            self.outages.failed(cause)
            raise StoreUnavailable(self._not_kept(cause)) from cause
        except redis.ResponseError as exc:
            raise self._refused(exc) from exc
        except redis.RedisError as exc:
            self.outages.failed(exc)
            if kind == "write":
                raise StoreOutcomeUnknown(
                    f"The Redis store {self.url} did not answer after this request's write was sent "
                    f"({type(exc).__name__}: {exc}): the write may or may not have been applied (Redis may "
                    "still run it). Read the campaign (or list the campaigns, after a create) to see whether "
                    "it was, before you send it again."
                ) from exc
            raise StoreUnavailable(self._not_kept(exc)) from exc
        if kind == "write":
            _written.set("kept")
        self.outages.succeeded()
        return result

    def _attempt(self, action: Callable[[redis.Redis], T], kind: Kind) -> T:
        try:
            client = self._own_client()
            connection = client.connection
            if connection is not None:
                if kind != "read" and _closed(connection):
                    connection.disconnect()  # type: ignore[no-untyped-call]
                connection.connect()  # type: ignore[no-untyped-call] # no-op when connected
        except redis.RedisError as exc:
            raise NotSent from exc
        return action(client)

    def _not_kept(self, exc: Exception) -> str:
        said = f"The Redis store {self.url} did not answer ({type(exc).__name__}: {exc}); "
        if _written.get() == "kept":
            return said + (
                "an earlier write of this request was applied, the rest was not. Read the campaign to see its "
                "state before you retry."
            )
        return said + "nothing of this request was kept. Retry later."

    def _refused(self, exc: redis.ResponseError) -> Exception:
        """Redis answered with an error: full, a script that found state missing, or a refusal."""
        message = str(exc)
        if isinstance(exc, redis.exceptions.OutOfMemoryError):
            self._say_once("full", "the Redis store %s is full (over its maxmemory): writes answer 507", self.url)
            return StoreOutOfSpace(
                f"The Redis store {self.url} is full (used memory over its maxmemory); this write was not kept. "
                "Free memory in Redis or raise its maxmemory, then retry."
            )
        if message.startswith(EPOCH_REPLY) and self.on_stale_epoch is not None:
            return self.on_stale_epoch(message)
        if message.startswith(LOST_REPLY):
            detail = message.removeprefix(LOST_REPLY).split(" script:", 1)[0].strip()
            self._say_once(detail, "the Redis store %s lost state it held: %s", self.url, detail)
            return StoreLost(
                f"The Redis store {self.url} lost part of the state it held ({detail}: evicted or deleted "
                "behind the mock's back); this request was not served from what is left. POST /__admin/reset "
                "starts the sandbox afresh."
            )
        self.outages.failed(exc)
        return StoreUnavailable(f"The Redis store {self.url} refused the command ({message}). Retry later.")

    def _say_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._said_lost and len(self._said_lost) < 100:
            self._said_lost.add(key)
            log.error(message, *args)

    def forget_said(self) -> None:
        """After a reset: a loss found again is told again."""
        self._said_lost.clear()

    def failed(self, exc: Exception) -> None:
        """A failure outside a request (the journal's writer): counted in the outage, not a request."""
        self.outages.failed(exc, request=False)


def _closed(connection: Any) -> bool:
    """Whether a connection's socket already shows its end (Redis restarted, or closed it): a
    write is then sent on a new one, so that an error after sending means the outcome is unknown.
    A poll with no wait: microseconds."""
    try:
        return bool(connection.can_read(timeout=0))
    except (redis.ConnectionError, OSError):
        return True


def text(value: Any) -> str:
    """A reply as text (redis-py answers bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def connect(url: str) -> redis.Redis:
    """A client with bounded timeouts (unless the URL sets its own) and no retry of its own: the
    link sends a read again after a dropped connection, never a write (it may have run)."""
    query = urlsplit(url).query
    options: dict[str, Any] = {}
    if "socket_timeout" not in query:
        options["socket_timeout"] = SOCKET_TIMEOUT_SECONDS
    if "socket_connect_timeout" not in query:
        options["socket_connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    retry = Retry(NoBackoff(), 0)
    return redis.Redis.from_url(url, retry=retry, **options)

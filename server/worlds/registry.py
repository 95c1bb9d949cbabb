"""The registry of sandboxes: worlds by name, made on authenticated first use, dropped when idle.

Like moto's BackendDict (created lazily under a lock, the default one keeping old calls
working), but injected rather than held at class level, and with the list of sandboxes kept
by the backend (shared by every process on a shared store). ``mode``:
- ``auto`` (default): the first request to ``/sandboxes/NAME/...`` that carries valid
  credentials makes the sandbox (``open``); a request without them finds nothing (404), so
  anonymous traffic can neither make nor fill sandboxes;
- ``explicit``: only ``PUT /__admin/sandboxes/NAME`` makes one; another name answers 404;
- ``off``: there are no sandboxes but the default one.
At most ``limit`` exist besides the default one (checked by the backend's index in one atomic
step, so processes sharing a store cannot overshoot it); one more answers 507.

Use and drop exclude each other: every request holds a lease on its world while it runs; a
drop takes the name off the index, waits for the leases of this process to end, then deletes
what the backend holds, and a new sandbox of that name is made only after that. Idle sandboxes
(no request for ``ttl`` seconds, none in flight here) are dropped by a background sweeper,
never on a request's path.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from campaign_mock.server.domain.errors import InsufficientStorage, InvalidRequest, NotFound
from campaign_mock.server.stores.base import SandboxIndex
from campaign_mock.server.worlds.world import DEFAULT_WORLD, World

log = logging.getLogger("campaign_mock.sandboxes")

MODES = ("auto", "explicit", "off")
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
DOTS_ONLY = re.compile(r"\.+")
NAME_RULE = "1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', not only dots"
SWEEP_EVERY_SECONDS = 5.0
DROP_WAIT_SECONDS = 10.0
"""How long a drop waits for this process's requests in the sandbox to end before it deletes anyway."""


def check_name(name: str) -> str:
    """``name`` if it may name a sandbox. Dot-segments (``.``, ``..``) may not: clients collapse
    ``/sandboxes/../campaigns`` to ``/campaigns``, so a call aimed at sandbox ``..`` would land
    in the default world."""
    if not NAME.fullmatch(name) or DOTS_ONLY.fullmatch(name):
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise InvalidRequest(
            f"Sandbox name {shown!r} is not one: a name is {NAME_RULE}.",
            extra={"errors": [{"in": "path", "name": "sandbox", "detail": NAME_RULE}]},
        )
    return name


@dataclass(frozen=True)
class SandboxPolicy:
    mode: str = "auto"
    ttl_seconds: float = 3600.0
    limit: int = 1000

    @property
    def touch_every(self) -> float:
        """How often a process tells the index a sandbox is in use: fine enough that a sandbox
        used more often than its ttl never looks idle (a quarter of it), at most once a second."""
        return min(TOUCH_EVERY_SECONDS, self.ttl_seconds / 4)


TOUCH_EVERY_SECONDS = 1.0
RECHECK_EVERY_SECONDS = 1.0
"""How long a process trusts that a sandbox it holds still exists in a shared index (another
process may drop it): a sandbox dropped elsewhere is gone here within this time."""


class Worlds:
    """The sandboxes' worlds. The ``index`` (the backend's) says which sandboxes exist and when
    each was last used; this process holds a world object for those it serves. With a shared
    backend the index is the store's, so every process sees the same sandboxes."""

    def __init__(
        self,
        default: World,
        make: Callable[[str], World],
        index: SandboxIndex,
        forget: Callable[[str], None],
        policy: SandboxPolicy = SandboxPolicy(),
        shared: bool = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        """``make`` builds a sandbox's world on its backend; ``forget`` deletes what the backend
        holds for one; ``shared``: the index is seen by other processes too."""
        self.default = default
        self.policy = policy
        self._make = make
        self._index = index
        self._forget = forget
        self._shared = shared
        self._now = now
        self._worlds: dict[str, World] = {}
        self._in_flight: dict[str, int] = {}
        self._dropping: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._leases_ended = threading.Condition(self._lock)
        self._sweeper: threading.Thread | None = None
        self._sweeper_pid = 0  # the process the sweeper runs in: a forked worker starts its own
        self._stop = threading.Event()

    # -- finding and making ------------------------------------------------------------------

    def find(self, name: str) -> World | None:
        """The world of an existing sandbox ``name`` (None if there is none); makes nothing."""
        if name == DEFAULT_WORLD:
            return self.default
        if self._sweeper_pid != os.getpid():
            self.start_sweeping()
        if self.policy.mode == "off":
            raise NotFound("Sandboxes are off on this server (--sandboxes off): use the paths without /sandboxes/.")
        now = self._now()
        world = self._worlds.get(name)
        if world is not None and self._shared and now - world.checked > RECHECK_EVERY_SECONDS:
            if self._index.contains(name):
                world = self._held(name, now)
            else:
                self._forgotten(name)
                world = None
        if world is None:
            check_name(name)
            if name in self._dropping or not self._index.contains(name):
                return None
            world = self._held(name, now)
        return world

    def open(self, name: str) -> World:
        """The sandbox ``name`` for a request with valid credentials: made now if need be (``auto``)."""
        world = self.find(name)
        if world is not None:
            return world
        if self.policy.mode == "explicit":
            raise NotFound(
                f"No sandbox {name!r}: this server makes sandboxes only on request "
                f"(--sandboxes explicit): PUT /__admin/sandboxes/{name} first."
            )
        return self.create(name)[0]

    def _held(self, name: str, now: float) -> World:
        """This process's world for a sandbox the index lists (made here if it was made elsewhere)."""
        with self._lock:
            world = self._worlds.get(name)
            if world is None:
                world = self._worlds[name] = self._make(name)
            world.checked = now
            return world

    def _forgotten(self, name: str) -> None:
        """A sandbox another process dropped: let go of this process's world for it."""
        with self._lock:
            self._worlds.pop(name, None)

    def create(self, name: str) -> tuple[World, bool]:
        """The sandbox ``name``, and whether it was made now; 507 past the limit."""
        check_name(name)
        if name == DEFAULT_WORLD:
            return self.default, False
        self._await_drop(name)
        now = self._now()
        outcome = self._index.add(name, now, self.policy.limit)
        if outcome == "full" and self._reclaim_one(now):
            outcome = self._index.add(name, now, self.policy.limit)
        with self._lock:
            if outcome == "full":
                raise InsufficientStorage(
                    f"This server holds {self.policy.limit} sandboxes, the most it keeps (--max-sandboxes); "
                    "drop one (DELETE /__admin/sandboxes/NAME) or wait until one idles out "
                    f"(--sandbox-ttl {self.policy.ttl_seconds:g} s)."
                )
            world = self._worlds.get(name)
            if world is None:
                world = self._worlds[name] = self._make(name)
            world.checked = world.touched = now
            return world, outcome == "added"

    def _reclaim_one(self, now: float) -> bool:
        """At the limit, drop one sandbox idle past its ttl, if there is one (bounded: one
        sandbox's keys), so a new one need not wait for the sweeper's next round."""
        cutoff = now - self.policy.ttl_seconds
        return any(self.drop(name, idle_before=cutoff) for name in self._index.idle_since(cutoff)[:3])

    def _await_drop(self, name: str) -> None:
        """A name being dropped is made again only once its old data is gone."""
        dropping = self._dropping.get(name)
        if dropping is not None:
            dropping.wait(DROP_WAIT_SECONDS + 5.0)

    # -- leases: a request's use of its world ---------------------------------------------------

    def enter(self, world: World) -> bool:
        """A request starts in ``world``: it is in use (not dropped under it) and its last use
        moves. False when the world was dropped between finding it and now (checked under the
        lock a drop takes, so no request enters a world whose data is being deleted)."""
        if world is self.default:
            return True
        with self._lock:
            if self._worlds.get(world.name) is not world:
                return False
            self._in_flight[world.name] = self._in_flight.get(world.name, 0) + 1
        self._touch(world)
        return True

    def leave(self, world: World) -> None:
        if world is self.default:
            return
        with self._lock:
            left = self._in_flight.get(world.name, 0) - 1
            if left > 0:
                self._in_flight[world.name] = left
            else:
                self._in_flight.pop(world.name, None)
                self._leases_ended.notify_all()
        self._touch(world)

    def _touch(self, world: World) -> None:
        now = self._now()
        if now - world.touched > self.policy.touch_every:
            world.touched = now
            self._index.touch(world.name, now)

    # -- dropping ----------------------------------------------------------------------------------

    def drop(self, name: str, idle_before: float | None = None) -> bool:
        """Forget the sandbox and everything it holds; whether there was one. Requests in it
        that this process is serving end first (bounded wait). ``idle_before``: only if it is
        still unused since then, with no request in flight here (the sweeper's drop)."""
        with self._lock:
            if name in self._dropping:
                return False
            if idle_before is not None and (
                self._in_flight.get(name, 0) > 0 or (self._index.last_used(name) or 0.0) >= idle_before
            ):
                return False
            held = self._worlds.pop(name, None) is not None
            listed = self._index.remove(name)
            if not (listed or held):
                return False
            done = self._dropping[name] = threading.Event()
            deadline = time.monotonic() + DROP_WAIT_SECONDS
            while self._in_flight.get(name, 0) > 0 and time.monotonic() < deadline:
                self._leases_ended.wait(max(0.0, deadline - time.monotonic()))
        try:
            self._forget(name)
        finally:
            with self._lock:
                self._dropping.pop(name, None)
            done.set()
        return True

    def all(self) -> list[World]:
        """The default world first, then the sandboxes by name."""
        now = self._now()
        return [self.default, *(self._held(name, now) for name in self._index.names())]

    def last_used(self, world: World) -> float:
        """When the sandbox last answered a request (wall seconds; the default one: now)."""
        if world.name == DEFAULT_WORLD:
            return self._now()
        return self._index.last_used(world.name) or world.touched

    def sweep(self) -> list[str]:
        """Drop the sandboxes idle for longer than the policy's ttl (none with a request in
        flight here); the names dropped."""
        cutoff = self._now() - self.policy.ttl_seconds
        dropped = []
        for name in self._index.idle_since(cutoff):
            if self._stop.is_set():
                break
            if self.drop(name, idle_before=cutoff):
                dropped.append(name)
        if dropped:
            log.info("dropped %d idle sandbox(es): %s", len(dropped), ", ".join(dropped[:10]))
        return dropped

    # -- the background sweeper ----------------------------------------------------------------------

    def start_sweeping(self, every: float = SWEEP_EVERY_SECONDS) -> None:
        """Sweep idle sandboxes every ``every`` seconds on a daemon thread (idempotent). Started
        by the server once it serves (in each worker), so sweeping never sits on a request."""
        with self._lock:
            if self._sweeper_pid == os.getpid() and self._sweeper is not None and self._sweeper.is_alive():
                return
            self._sweeper_pid = os.getpid()
        self._stop.clear()
        interval = min(every, max(0.1, self.policy.ttl_seconds / 4))
        self._sweeper = threading.Thread(target=self._sweep_forever, args=(interval,), name="sandbox-sweeper")
        self._sweeper.daemon = True
        self._sweeper.start()

    def stop_sweeping(self) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=5.0)
            self._sweeper = None

    def _sweep_forever(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:  # a store outage: the next round tries again
                log.warning("sweeping idle sandboxes failed; trying again in %.0f s", interval, exc_info=True)

"""The registry of sandboxes: worlds by name, made on first use, dropped when idle.

Like moto's BackendDict (created lazily under a lock, the default one keeping old calls
working), but injected rather than held at class level, and with the list of sandboxes kept
by the backend (shared by every process on a shared store). ``mode``:
- ``auto`` (default): ``/sandboxes/NAME/...`` makes the sandbox the first time it is used;
- ``explicit``: only ``PUT /__admin/sandboxes/NAME`` makes one; another name answers 404;
- ``off``: there are no sandboxes but the default one.
Idle sandboxes (no request for ``ttl`` seconds) are dropped; at most ``limit`` exist besides
the default one, and one more answers 507.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from campaign_mock.server.domain.errors import InsufficientStorage, InvalidRequest, NotFound
from campaign_mock.server.stores.base import SandboxIndex
from campaign_mock.server.worlds.world import DEFAULT_WORLD, World

MODES = ("auto", "explicit", "off")
NAME = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
NAME_RULE = "1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
SWEEP_EVERY_SECONDS = 5.0


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
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


TOUCH_EVERY_SECONDS = 1.0
"""How often a process tells the sandbox index a sandbox is in use (expiry needs no finer grain)."""
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
        self._lock = threading.Lock()
        self._swept = now()

    def get(self, name: str) -> World:
        """The world of a request to ``/sandboxes/NAME``; made on first use in ``auto`` mode."""
        if name == DEFAULT_WORLD:
            return self.default
        if self.policy.mode == "off":
            raise NotFound("Sandboxes are off on this server (--sandboxes off): use the paths without /sandboxes/.")
        now = self._now()
        world = self._worlds.get(name)
        if world is not None and self._shared and now - world.checked > RECHECK_EVERY_SECONDS:
            world = self._held(name, now) if self._index.contains(name) else None
        if world is None:
            check_name(name)
            if self._index.contains(name):
                world = self._held(name, now)
            elif self.policy.mode == "explicit":
                raise NotFound(
                    f"No sandbox {name!r}: this server makes sandboxes only on request "
                    f"(--sandboxes explicit): PUT /__admin/sandboxes/{name} first."
                )
            else:
                world, _ = self.create(name)
        if now - world.touched > TOUCH_EVERY_SECONDS:
            world.touched = now
            self._index.touch(name, now)
        if now - self._swept > SWEEP_EVERY_SECONDS:
            self._sweep(now)
        return world

    def _held(self, name: str, now: float) -> World:
        """This process's world for a sandbox the index lists (made here if it was made elsewhere)."""
        with self._lock:
            world = self._worlds.get(name)
            if world is None:
                world = self._worlds[name] = self._make(name)
            world.checked = now
            return world

    def create(self, name: str) -> tuple[World, bool]:
        """The sandbox ``name``, and whether it was made now; 507 past the limit."""
        check_name(name)
        if name == DEFAULT_WORLD:
            return self.default, False
        now = self._now()
        with self._lock:
            if not self._index.contains(name):
                if self._index.count() >= self.policy.limit:
                    self._sweep(now, locked=True)
                if self._index.count() >= self.policy.limit:
                    raise InsufficientStorage(
                        f"This server holds {self.policy.limit} sandboxes, the most it keeps (--max-sandboxes); "
                        "drop one (DELETE /__admin/sandboxes/NAME) or wait until one idles out "
                        f"(--sandbox-ttl {self.policy.ttl_seconds:g} s)."
                    )
                created = self._index.add(name, now)
            else:
                created = False
            world = self._worlds.get(name)
            if world is None:
                world = self._worlds[name] = self._make(name)
            world.checked = world.touched = now
            return world, created

    def drop(self, name: str) -> bool:
        """Forget the sandbox and everything it holds; whether there was one."""
        with self._lock:
            held = self._worlds.pop(name, None) is not None
            listed = self._index.remove(name)
            if listed or held:
                self._forget(name)
            return listed or held

    def all(self) -> list[World]:
        """The default world first, then the sandboxes by name."""
        now = self._now()
        return [self.default, *(self._held(name, now) for name in self._index.names())]

    def last_used(self, world: World) -> float:
        """When the sandbox last answered a request (wall seconds; the default one: now)."""
        if world.name == DEFAULT_WORLD:
            return self._now()
        return self._index.last_used(world.name) or world.touched

    def _sweep(self, now: float, locked: bool = False) -> None:
        """Drop the sandboxes idle for longer than the policy's ttl."""
        if not locked:
            with self._lock:
                self._sweep(now, locked=True)
            return
        self._swept = now
        for name in self._index.idle_since(now - self.policy.ttl_seconds):
            self._worlds.pop(name, None)
            if self._index.remove(name):
                self._forget(name)

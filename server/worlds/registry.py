"""The registry of sandboxes: worlds by name, made on first use, dropped when idle.

Like moto's BackendDict (created lazily under a lock, the default one keeping old calls
working), but injected rather than held at class level. ``mode``:
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


class Worlds:
    def __init__(
        self,
        default: World,
        make: Callable[[str], World],
        policy: SandboxPolicy = SandboxPolicy(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = default
        self.policy = policy
        self._make = make
        self._monotonic = monotonic
        self._worlds: dict[str, World] = {}
        self._lock = threading.Lock()
        self._swept = monotonic()

    def get(self, name: str) -> World:
        """The world of a request to ``/sandboxes/NAME``; made on first use in ``auto`` mode."""
        if name == DEFAULT_WORLD:
            return self.default
        if self.policy.mode == "off":
            raise NotFound("Sandboxes are off on this server (--sandboxes off): use the paths without /sandboxes/.")
        now = self._monotonic()
        world = self._worlds.get(name)
        if world is None:
            check_name(name)
            if self.policy.mode == "explicit":
                raise NotFound(
                    f"No sandbox {name!r}: this server makes sandboxes only on request "
                    f"(--sandboxes explicit): PUT /__admin/sandboxes/{name} first."
                )
            world, _ = self.create(name)
        world.touch(now)
        if now - self._swept > SWEEP_EVERY_SECONDS:
            self._sweep(now)
        return world

    def create(self, name: str) -> tuple[World, bool]:
        """The sandbox ``name``, and whether it was made now; 507 past the limit."""
        check_name(name)
        if name == DEFAULT_WORLD:
            return self.default, False
        with self._lock:
            if name in self._worlds:
                return self._worlds[name], False
            now = self._monotonic()
            if len(self._worlds) >= self.policy.limit:
                self._sweep(now, locked=True)
            if len(self._worlds) >= self.policy.limit:
                raise InsufficientStorage(
                    f"This server holds {self.policy.limit} sandboxes, the most it keeps (--max-sandboxes); "
                    "drop one (DELETE /__admin/sandboxes/NAME) or wait until one idles out "
                    f"(--sandbox-ttl {self.policy.ttl_seconds:g} s)."
                )
            world = self._make(name)
            world.touch(now)
            self._worlds[name] = world
            return world, True

    def drop(self, name: str) -> bool:
        with self._lock:
            return self._worlds.pop(name, None) is not None

    def all(self) -> list[World]:
        """The default world first, then the sandboxes by name."""
        with self._lock:
            return [self.default, *(self._worlds[name] for name in sorted(self._worlds))]

    def _sweep(self, now: float, locked: bool = False) -> None:
        """Drop the sandboxes idle for longer than the policy's ttl."""
        if not locked:
            with self._lock:
                self._sweep(now, locked=True)
            return
        self._swept = now
        idle = [name for name, world in self._worlds.items() if now - world.last_used > self.policy.ttl_seconds]
        for name in idle:
            del self._worlds[name]

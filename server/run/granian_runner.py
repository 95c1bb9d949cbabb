"""Serving under granian (``--server granian``), a Rust HTTP server with a WSGI interface.

The same app as under waitress. granian runs the app in worker processes it forks (one, or
``--workers N`` on a shared store): the app is assembled here first (so a bad spec, config or
store fails before anything listens) and each worker inherits it (redis-py's pool and the
SQLite connections notice the fork and reconnect). granian's parent process handles SIGINT
and SIGTERM: it stops the workers gracefully, letting requests in flight finish, and each
closes its store as it exits.

A worker that dies (``kill -9``, the OOM killer, a crash in native code) is replaced by the
parent, and the others serve on meanwhile: without that, granian stopped the whole server
(``Unexpected exit from worker-1``, exit status 1) and a shared mock was down for everyone. A
new worker is forked from the parent, so it holds what the parent held at start: with the
``memory:`` store the dead worker's campaigns are gone with it (they lived in that process),
with ``sqlite:`` only the clock, faults, journal and rate-limit counters restart (campaigns are
in the file), with ``redis://`` nothing is lost. Its first line on stderr says which. granian
gives up (and exits 1) when the same worker dies again within 5.5 s of being replaced, rather
than fork in a loop.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

from campaign_mock.server.domain.errors import ApiError
from campaign_mock.server.run.body_first import BodyFirst, Render
from campaign_mock.server.run.config import ConfigError, ServeSettings

EXTRA_HINT = "pip install 'campaign-mock[fast]'"

log = logging.getLogger("campaign_mock.server")

# What a replaced worker lost, by store kind (see the module's docstring).
LOST_ON_RESPAWN = {
    "memory": "with --store memory: the campaigns, clock, faults and journal of the worker that died are gone "
    "(they lived in it); use --store sqlite:PATH or redis://... to keep them",
    "sqlite": "campaigns are in the file; the clock, faults, journal and rate-limit counters start again "
    "from the configuration",
    "redis": "every state is in Redis; nothing was lost",
}

# granian's own lines go to stderr, so stdout keeps campaign-mock's banner (scripts read it).
GRANIAN_LOGGING: dict[str, Any] = {
    "handlers": {
        "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    }
}


class DroppedByServer(ConnectionAbortedError):
    """Raised from a started body: granian then closes the connection without an answer."""


def granian_drop() -> NoReturn:
    raise DroppedByServer("fault: dropped connection")


def require_granian() -> None:
    try:
        import granian  # noqa: F401, PLC0415 (only needed, and only installed, for --server granian)
    except ImportError:
        raise ConfigError(f"--server granian needs granian, which the 'fast' extra installs: {EXTRA_HINT}") from None


def free_port(host: str) -> int:
    """A port the OS has free now; granian needs a number where waitress takes 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_until_listening(host: str, port: int, seconds: float = 30.0) -> bool:
    """True once ``host:port`` accepts a connection (granian's worker is up), False on timeout."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def refuse_taken_port(host: str, port: int) -> None:
    """OSError when ``host:port`` is taken. granian binds with SO_REUSEPORT, so on its own a
    second server on the same port starts, and two servers with two states answer in turn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, port))  # no SO_REUSEPORT: fails while anyone listens there


PR_SET_PDEATHSIG = 1


def die_with(parent: int) -> None:
    """In the worker: be sent SIGTERM (a graceful stop) when ``parent`` dies, even by kill -9,
    instead of serving on alone (Linux ``prctl``; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def header_wait(settings: ServeSettings) -> float:
    """hyper's one timer: for a request's head to arrive whole, and for the next request."""
    return min(settings.header_timeout, settings.idle_timeout)


def plain_text(error: ApiError) -> tuple[str, bytes]:
    return "text/plain; charset=utf-8", error.detail.encode()


def serve_granian(
    settings: ServeSettings,
    app: Callable[..., Any],
    port: int,
    in_worker: Callable[[], Callable[[], None] | None],
    render: Render = plain_text,
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM. ``in_worker`` runs in the worker before it
    serves and may return what to run as it exits; ``render`` writes the 408 for a body that
    never came (the app's error format)."""
    from granian.constants import Interfaces  # noqa: PLC0415 (an optional dependency)
    from granian.http import HTTP1Settings  # noqa: PLC0415
    from granian.server import MPServer  # noqa: PLC0415

    refuse_taken_port(settings.host, port)
    parent = os.getpid()
    # Workers started so far, in memory the parent's forks share: past --workers, a replacement.
    started = multiprocessing.RawValue(ctypes.c_int, 0)
    lost = LOST_ON_RESPAWN.get(settings.effective_store().kind, "")

    def load(*_args: Any, **_kwargs: Any) -> Callable[..., Any]:
        die_with(parent)
        started.value += 1
        if started.value > settings.workers:
            log.warning("a granian worker died; this one (pid %d) replaces it: %s", os.getpid(), lost)
        on_exit = in_worker()
        if on_exit is not None:
            multiprocessing.util.Finalize(None, on_exit, exitpriority=10)
        return BodyFirst(
            app,
            threads=settings.effective_threads(),
            readers=settings.max_connections,
            body_timeout=settings.body_timeout,
            max_body_bytes=settings.max_body_bytes,
            render=render,
            drop=granian_drop,
            log_requests=settings.log_requests,
        )

    server = MPServer(
        target="campaign-mock",
        address=settings.host,
        port=port,
        interface=Interfaces.WSGI,
        workers=settings.workers,
        # Requests in progress at once (granian's own default is 1024); a small one left idle
        # keep-alive clients blocking new ones, hence the default of --max-connections, 1000.
        backpressure=settings.max_connections,
        # Closes a connection whose headers are not whole in time, and one idle between requests:
        # hyper has one timer for both (a fresh connection that never sends a byte is hyper's to
        # keep: granian has no timeout for it).
        http1_settings=HTTP1Settings(header_read_timeout=max(1, round(header_wait(settings) * 1000))),
        # A thread for every request in progress: one waiting for its body holds one, while
        # --threads of them run the app at once (see body_first).
        blocking_threads=max(settings.effective_threads(), settings.max_connections),
        # A dead worker is replaced, not the end of the server (see the module's docstring).
        respawn_failed_workers=True,
        log_dictconfig=GRANIAN_LOGGING,
        log_level="warning",  # type: ignore[arg-type]
    )
    server.serve(target_loader=load)

"""Serving under granian (``--server granian``), a Rust HTTP server with a WSGI interface.

The same app as under waitress. granian runs the app in one worker process it forks: the
app is assembled here first (so a bad spec or config fails before anything listens) and the
worker inherits it; what must live in the worker (the state file's saver thread, the save at
shutdown) starts there. granian's parent process handles SIGINT and SIGTERM: it stops the
worker gracefully, letting requests in flight finish, and the worker saves the state file
as it exits.
"""

from __future__ import annotations

import multiprocessing.util
import socket
import time
from collections.abc import Callable
from typing import Any, NoReturn

from campaign_mock.server.config import ConfigError, ServeSettings

EXTRA_HINT = "pip install 'campaign-mock[fast]'"

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


def serve_granian(
    settings: ServeSettings,
    app: Callable[..., Any],
    port: int,
    in_worker: Callable[[], Callable[[], None] | None],
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM. ``in_worker`` runs in the worker before it
    serves and may return what to run as it exits."""
    from granian.constants import Interfaces  # noqa: PLC0415 (an optional dependency)
    from granian.server import MPServer  # noqa: PLC0415

    def load(*_args: Any, **_kwargs: Any) -> Callable[..., Any]:
        on_exit = in_worker()
        if on_exit is not None:
            multiprocessing.util.Finalize(None, on_exit, exitpriority=10)
        return app

    server = MPServer(
        target="campaign-mock",
        address=settings.host,
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        # granian's default backpressure (1024) stays: it also bounds open connections, and a
        # smaller one left idle keep-alive clients blocking new ones.
        blocking_threads=settings.effective_threads(),
        log_dictconfig=GRANIAN_LOGGING,
        log_level="warning",  # type: ignore[arg-type]
    )
    server.serve(target_loader=load)

"""Dropped connections: the fault that closes a connection without an answer, and the close
after an answer that a server would otherwise keep open (granian and a stalled body).

The app stays server-agnostic: each HTTP server says how it drops (``server.servers``,
``server.granian_runner``); what is raised or streamed to make it do so lives here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NoReturn

DROP_DECLARED_LENGTH = 64


class DroppedConnection(Exception):
    """Raised while sending a body to make the HTTP server close the connection unanswered."""


def drop_connection() -> NoReturn:
    raise DroppedConnection


class DroppingBody:
    """A response body whose first read makes the server drop the connection (after an empty
    first chunk, for servers that only drop a response already started)."""

    def __init__(self, drop: Callable[[], NoReturn], after_start: bool = False) -> None:
        self._drop = drop
        self._lead = after_start

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if not self._lead:
            self._drop()
        self._lead = False
        return b""

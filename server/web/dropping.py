"""Dropped connections: the fault that closes a connection without an answer, and the close
after an answer that a server would otherwise keep open (granian and a stalled body).

The app stays server-agnostic: each HTTP server says how it drops (``server.servers``,
``server.granian_runner``); what is raised or streamed to make it do so lives here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import NoReturn

DROP_DECLARED_LENGTH = 64
# How long an answer that closes its connection waits for its head to be flushed (see DroppingBody).
HEAD_SETTLE_SECONDS = 0.25


class DroppedConnection(Exception):
    """Raised while sending a body to make the HTTP server close the connection unanswered."""


def drop_connection() -> NoReturn:
    raise DroppedConnection


class DroppingBody:
    """A response body whose first read makes the server drop the connection (after an empty
    first chunk, for servers that only drop a response already started).

    ``settle``: seconds to wait between the first chunk and the drop, so the status line and
    headers are on the wire first. granian hands the chunks to hyper through a channel; a drop
    that follows at once can reach hyper before it has flushed the head, and the client then
    gets nothing at all (seen in CI: an empty answer instead of the 408 for a stalled body).
    """

    def __init__(
        self, drop: Callable[[], NoReturn], after_start: bool = False, settle: float = 0.0, body: bytes = b""
    ) -> None:
        """``body``: the answer's whole body, sent before the drop (a 408 the client can read;
        its Content-Length promised it)."""
        self._drop = drop
        self._lead = after_start
        self._settle = settle
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if not self._lead:
            if self._settle:
                time.sleep(self._settle)
            self._drop()
        self._lead = False
        return self._body

"""Serving under waitress: limits that keep one slow or hostile client from starving the
others, and waitress' own refusals written in the configured error format.

waitress reads each request whole before the app sees it. So the checks that must happen
before a body is read live here, in waitress' parser and error task:
- a body over ``max_body_bytes`` is refused as soon as its Content-Length says so (it used to
  be spooled to disk, up to 1 GiB, before the app could answer 413);
- a request with both Content-Length and Transfer-Encoding: chunked is refused with 400 and
  the connection closed (RFC 9112 section 6.3: a server may refuse it and must then close);
- those refusals, and waitress' other 4xx (431, malformed framing), are written by the app's
  error boundary, in the configured format, instead of waitress' plain text.
Idle or stalled connections are closed after ``idle_timeout`` seconds, and up to
``max_connections`` are served at once (waitress' default of 100, each idle for up to 120 s,
let 100 idle clients lock everyone else out).

Two guards waitress lacks (``GuardedServer``): a request head not whole ``header_timeout``
seconds after its first byte closes its connection (a client sending a header byte every 5 s
is never idle, so 1,050 of them locked everyone out); and at ``max_connections`` a new
connection is not left waiting in the backlog: the connection that has waited longest
without a request in progress (idle, or its head or body still coming) is closed to make
room, so a client that sends its whole request is always served.
"""

from __future__ import annotations

import logging
import resource
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import waitress
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask

from campaign_mock.server.domain.errors import ApiError
from campaign_mock.server.web.boundary import phrase

log = logging.getLogger("campaign_mock.server")

HEADER_MARGIN = 64 * 1024  # waitress' own 431 sits this far above ours, which the app answers
CHUNK_MARGIN = 4096  # room for chunk framing, which waitress counts towards the body's size
FILE_DESCRIPTOR_RESERVE = 64

Render = Callable[[ApiError], tuple[str, bytes]]


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = 1000
    idle_timeout: float = 30.0
    body_timeout: float = 10.0
    header_timeout: float = 10.0
    max_body_bytes: int = 1024 * 1024
    max_header_bytes: int = 16 * 1024


class StrictParser(HTTPRequestParser):  # type: ignore[misc]  # waitress ships no type information
    """waitress' parser, refusing a request that frames its body twice."""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError(
                "The request has both Content-Length and Transfer-Encoding: chunked; send one of them (RFC 9112 6.3)."
            )


def _as_error(code: int, body: str, limits: ConnectionLimits) -> ApiError:
    if code == 413:
        detail = f"The body is over {limits.max_body_bytes} bytes; at most {limits.max_body_bytes} are accepted."
    elif code == 431:
        detail = f"The headers are over {limits.max_header_bytes + HEADER_MARGIN} bytes; send smaller ones."
    else:
        detail = str(body).strip() or phrase(code)
    error = ApiError(detail, headers={"Connection": "close"})
    error.status = code
    error.title = phrase(code)
    error.code = "-".join(error.title.lower().split()) or "error"
    return error


def formatted_channel(render: Render | None, limits: ConnectionLimits) -> type[HTTPChannel]:
    """waitress' channel with the strict parser and, given ``render``, formatted refusals."""

    class FormattedErrorTask(ErrorTask):  # type: ignore[misc]
        def execute(self) -> None:
            if render is None:
                super().execute()
                return
            refusal = self.request.error
            content_type, body = render(_as_error(int(refusal.code), str(refusal.body), limits))
            self.status = f"{refusal.code} {refusal.reason}"
            self.response_headers.append(("Content-Type", content_type))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class Channel(HTTPChannel):  # type: ignore[misc]
        parser_class = StrictParser
        error_task_class = FormattedErrorTask
        head_since: float | None = None  # when the request head now arriving began (time.time)
        _head_of: object = None  # the parser of that head

        def received(self, data: bytes) -> bool:
            done = bool(super().received(data))
            partial = self.request
            if partial is None or partial.headers_finished:
                self.head_since = None
            elif partial is not self._head_of:
                self._head_of, self.head_since = partial, time.time()
            return done

    return Channel


ROOM_LOG_SECONDS = 60.0


class GuardedServer(BaseWSGIServer):  # type: ignore[misc]
    """waitress' server with a header deadline and room made at the connection limit (see the
    module's docstring). Set as the class of the server ``waitress.create_server`` made."""

    header_timeout = 10.0
    next_channel_cleanup: float  # waitress' own
    _room_logged = 0.0

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        cutoff = now - self.header_timeout
        for channel in list(self.active_channels.values()):
            since = getattr(channel, "head_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True  # the loop closes it at its next turn

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        full = len(self._map) >= self.adj.connection_limit
        if full and self._someone_waits():
            self._make_room(now)
        self.in_connection_overflow = full
        return not full

    def _someone_waits(self) -> bool:
        """A connection is in the backlog (the listening socket is readable)."""
        return bool(select.select([self.socket], [], [], 0)[0])

    def _make_room(self, now: float) -> None:
        channels = list(self.active_channels.values())
        if any(channel.will_close or channel.close_when_flushed for channel in channels):
            return  # room is being made already
        waiting = [c for c in channels if not c.requests and not c.total_outbufs_len]
        if not waiting:
            return  # every connection has a request in progress: the new one waits its turn
        longest = min(waiting, key=lambda c: c.head_since if c.head_since is not None else c.last_activity)
        longest.will_close = True
        if now - self._room_logged > ROOM_LOG_SECONDS:
            self._room_logged = now
            log.warning(
                "%d connections open (--max-connections): each new one closes the one waiting longest "
                "without a request in progress",
                len(channels),
            )


def _guard(server: Any, header_timeout: float) -> None:
    """Make the listening server(s) of ``server`` guarded ones."""
    listeners = [server] if isinstance(server, BaseWSGIServer) else list(getattr(server, "map", {}).values())
    for listener in listeners:
        if isinstance(listener, BaseWSGIServer):
            listener.__class__ = type("Guarded" + type(listener).__name__, (GuardedServer, type(listener)), {})
            listener.header_timeout = header_timeout


def _room_for(connections: int) -> int:
    """Raise the open-file limit to fit ``connections`` where the hard limit allows; the
    connections that fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + FILE_DESCRIPTOR_RESERVE
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        fitting = max(1, soft - FILE_DESCRIPTOR_RESERVE)
        log.warning(
            "the open-file limit (%d) fits %d connections, not %d: serving %d", soft, fitting, connections, fitting
        )
        return fitting
    return connections


def create_waitress_server(
    app: Any, *, host: str, port: int, threads: int, limits: ConnectionLimits, render: Render | None = None
) -> Any:
    """A waitress server (not yet running) for ``app`` with ``limits``; OSError if it cannot listen."""
    idle = max(1, round(limits.idle_timeout))
    header = max(1, round(limits.header_timeout))
    server = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        # Just above our own limit, so oversized headers get the app's 431 in the configured format.
        max_request_header_size=limits.max_header_bytes + HEADER_MARGIN,
        max_request_body_size=limits.max_body_bytes + 1 + CHUNK_MARGIN,
        connection_limit=_room_for(limits.max_connections),
        channel_timeout=idle,
        # How often idle connections and late heads are looked for.
        cleanup_interval=max(1, min(30, idle // 2, header // 2)),
    )
    server.channel_class = formatted_channel(render, limits)
    _guard(server, limits.header_timeout)
    return server

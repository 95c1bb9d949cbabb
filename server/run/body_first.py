"""Under granian: a request's body is read before the request runs the app, so a client that
stalls its upload holds no thread the others need.

waitress reads every body itself before it dispatches to the app; granian hands the app a
stream that blocks until the client sends. With granian's one request thread (``--threads``
1, what measured best), each upload that stalled after its headers held that thread until its
408, and they queued: four stalled uploads kept every other client waiting past 20 s. On a
profile whose token travels in the body (altcraft) even unauthenticated stalls did.

So here, as under waitress, the body comes first. granian gets a thread for every request in
progress (made when needed; idle ones end after 30 s); a request waits for its body on its
own, for at most ``body_timeout`` seconds, and only then passes a gate that lets ``--threads``
of them run the app at once, as the one thread did (more threads running the app at once
only queue for the GIL: getCampaign p99 9 ms at one here, 35 to 56 ms at 4 to 16). A body
that does not arrive in time is answered 408 here, whatever the app would have said (a 401,
a 404: the request never arrived whole), and the connection is dropped after the head, which
is what ends the read still waiting for it (granian reads a body until it is done or the
connection is gone; an answer with ``Connection: close`` still waits for the body).
"""

from __future__ import annotations

import concurrent.futures
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from campaign_mock.server.domain.errors import ApiError, RequestTimeout
from campaign_mock.server.web.dropping import HEAD_SETTLE_SECONDS, DroppingBody
from campaign_mock.server.web.middleware import loggable

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Render = Callable[[ApiError], tuple[str, bytes]]

access_log = logging.getLogger("campaign_mock.access")  # lines written through middleware.loggable


def read_up_to(stream: Any, size: int) -> bytes:
    """``size`` bytes of ``stream``, fewer only at its end."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


class BodyFirst:
    """WSGI middleware: read the body (bounded in size and time), then run ``app`` behind a gate."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        threads: int,
        readers: int,
        body_timeout: float,
        max_body_bytes: int,
        render: Render,
        drop: Callable[[], NoReturn],
        log_requests: bool = True,
    ) -> None:
        self._app = app
        # A lock is the cheapest gate for the usual one thread (its waiters sleep off the GIL).
        self._gate: threading.Semaphore | threading.Lock = (
            threading.BoundedSemaphore(threads) if threads > 1 else threading.Lock()
        )
        self._readers = concurrent.futures.ThreadPoolExecutor(readers, thread_name_prefix="campaign-mock:body")
        self._timeout = body_timeout
        self._max_body_bytes = max_body_bytes
        self._render = render
        self._drop = drop
        self._log_requests = log_requests

    def _wanted(self, environ: dict[str, Any]) -> int:
        """Bytes to read before the app runs: 0 for none (no body, or one the app refuses unread)."""
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return 0  # the app answers an unreadable length
            return length if 0 < length <= self._max_body_bytes else 0  # over the limit: a 413 unread
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self._max_body_bytes + 1  # one byte past the limit tells the app it is over
        return 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        wanted = self._wanted(environ)
        if wanted:
            started = time.perf_counter()
            pending = self._readers.submit(read_up_to, environ["wsgi.input"], wanted)
            try:
                environ["wsgi.input"] = io.BytesIO(pending.result(self._timeout))
            except concurrent.futures.TimeoutError:
                return self._late(environ, start_response, started)
        with self._gate:
            return self._app(environ, start_response)

    def _late(self, environ: dict[str, Any], start_response: Callable[..., Any], started: float) -> Iterable[bytes]:
        """408: the whole answer (chunked: with a Content-Length granian would never cut), then
        the connection cut (as the app's own 408 is, see DroppingBody and the error boundary)."""
        error = RequestTimeout(
            f"The request body did not arrive within {self._timeout:g} s of its headers; "
            "send the whole body at once (the limit is --body-timeout)."
        )
        content_type, body = self._render(error)
        start_response(
            "408 Request Timeout",
            [("Content-Type", content_type), ("Connection", "close")],
        )
        if self._log_requests:
            elapsed = (time.perf_counter() - started) * 1000
            path = loggable(str(environ.get("PATH_INFO", "")))
            access_log.info("%s %s 408 %.1fms", loggable(str(environ.get("REQUEST_METHOD"))), path, elapsed)
        return DroppingBody(self._drop, after_start=True, settle=HEAD_SETTLE_SECONDS, body=body)

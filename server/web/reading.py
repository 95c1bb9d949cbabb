"""Request bodies off the wire: bounded by size, chunked or not, and bounded in time where the
HTTP server needs it.

waitress reads every body itself before the app runs (de-chunked, with a Content-Length),
so the app reads from a buffer. granian hands the app a stream that blocks until the client
sends: a client that sends its headers and then stalls used to hold granian's one request
thread, and every other client with it. There a read runs on a small pool of reader threads
and gives up after ``body_timeout`` seconds; the answer is then 408, and the connection is
closed, which is also what releases the stalled read (granian keeps a connection's thread
until its body is done or the connection is gone).
"""

from __future__ import annotations

import concurrent.futures
from typing import Protocol

import falcon

from campaign_mock.server.domain.errors import PayloadTooLarge, RequestTimeout

READER_THREADS = 16


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BodyReader(Protocol):
    def __call__(self, stream: Readable, size: int) -> bytes:
        """At most ``size`` bytes of ``stream``, up to its end."""
        ...


def read_directly(stream: Readable, size: int) -> bytes:
    return stream.read(size)


class TimedReader:
    """Reads on a bounded pool; a body that has not arrived within ``timeout`` seconds is a 408."""

    def __init__(self, timeout: float, threads: int = READER_THREADS) -> None:
        self._timeout = timeout
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="campaign-mock:body")

    def __call__(self, stream: Readable, size: int) -> bytes:
        pending = self._pool.submit(stream.read, size)
        try:
            return pending.result(self._timeout)
        except concurrent.futures.TimeoutError:
            raise RequestTimeout(
                f"The request body did not arrive within {self._timeout:g} s of its headers; "
                "send the whole body at once (the limit is --body-timeout).",
                close=True,
            ) from None


def is_chunked(req: falcon.Request) -> bool:
    return "chunked" in (req.get_header("Transfer-Encoding") or "").lower()


def read_body(req: falcon.Request, limit: int, reader: BodyReader) -> bytes:
    """The request's body, refused with 413 as soon as it is known to be over ``limit`` bytes
    (by its Content-Length, before anything is read; else after ``limit + 1`` bytes)."""
    declared = req.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"The body is {declared} bytes; at most {limit} are accepted.")
    if declared is None:
        # No length: only a chunked body follows, and only a stream that ends with it may be read to its end.
        if not (is_chunked(req) and req.env.get("wsgi.input_terminated")):
            return b""
        stream = req.stream
    elif declared == 0:
        return b""
    else:
        stream = req.bounded_stream
    raw = reader(stream, limit + 1)
    req.context.raw_body = raw[:limit]
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body is over {limit} bytes; at most {limit} are accepted.")
    return raw

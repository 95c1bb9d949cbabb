"""A shared mock nobody can lock out (issue 21): stalled uploads, headers sent a byte at a
time, and a connection cap full of them must not keep other clients waiting, under either
server; a doubly framed request smuggles nothing.

Every client here is bounded in count and time; every process is ours and stopped by its PID.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from urllib.parse import urlsplit

import pytest
import requests

from tests.cli_process import address, serving

AUTH = {"Authorization": "Bearer demo-key"}
HOST = "Host: 127.0.0.1"
STALLED_UPLOADS = 8


@contextmanager
def stalled_uploads(url: str, path: str, count: int, extra_headers: str = "") -> Iterator[list[socket.socket]]:
    """``count`` uploads that send their headers and 10 of 1,000 bytes, then nothing; closed after."""
    with ExitStack() as stack:
        held = []
        for _ in range(count):
            connection = stack.enter_context(closing(socket.create_connection(address(url), timeout=5)))
            connection.sendall(
                f"POST {path} HTTP/1.1\r\n{HOST}\r\n{extra_headers}Content-Type: application/json\r\n"
                'Content-Length: 1000\r\n\r\n{"name": "'.encode()
            )
            held.append(connection)
        yield held


def timed(call: object) -> tuple[float, int]:
    started = time.monotonic()
    status = call()  # type: ignore[operator]
    return time.monotonic() - started, int(status)


def test_stalled_uploads_keep_no_other_client_waiting(server: str) -> None:
    with serving("--server", server, "--no-request-log") as served:
        path = urlsplit(served.url).path
        with stalled_uploads(served.url, f"{path}/campaigns", STALLED_UPLOADS, "Authorization: Bearer demo-key\r\n"):
            time.sleep(0.3)
            read_in, read = timed(lambda: requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5).status_code)
            write_in, written = timed(
                lambda: (
                    requests.post(
                        f"{served.url}/campaigns", json={"name": "Meanwhile"}, headers=AUTH, timeout=5
                    ).status_code
                )
            )
        served.interrupt()
    print(f"{server}, {STALLED_UPLOADS} stalled uploads: a read answered in {read_in:.3f} s, a write in {write_in:.3f}")
    assert (read, written) == (200, 201)
    assert read_in < 1, f"a read waited {read_in:.1f} s behind {STALLED_UPLOADS} stalled uploads"
    assert write_in < 1, f"a write waited {write_in:.1f} s behind {STALLED_UPLOADS} stalled uploads"


def test_unauthenticated_stalled_uploads_keep_no_other_client_waiting_when_the_token_is_in_the_body(
    server: str,
) -> None:
    """altcraft reads its token from the body: a stall there is one before anyone is known."""
    with serving("--server", server, "--spec", "altcraft", "--no-request-log") as served:
        base = served.url
        path = urlsplit(base).path
        with stalled_uploads(base, f"{path}/add", STALLED_UPLOADS):
            time.sleep(0.3)
            added_in, added = timed(
                lambda: (
                    requests.post(f"{base}/add", json={"token": "demo-key", "name": "Meanwhile"}, timeout=5)
                    .json()
                    .get("error", -1)
                )
            )
        served.interrupt()
    print(f"{server}, altcraft, {STALLED_UPLOADS} stalled uploads: a write answered in {added_in:.3f} s")
    assert added == 0
    assert added_in < 1, f"a write waited {added_in:.1f} s behind {STALLED_UPLOADS} stalled uploads"


@pytest.mark.parametrize("credentials", ["Authorization: Bearer demo-key\r\n", ""], ids=["known", "anonymous"])
def test_a_stalled_upload_is_answered_408_and_its_connection_closed(server: str, credentials: str) -> None:
    """Whoever sent it: an anonymous stall, which the app would answer 401 unread, must not
    keep its connection (and granian a read waiting for it) open either."""
    with serving("--server", server, "--no-request-log", "--body-timeout", "1", "--idle-timeout", "2") as served:
        path = urlsplit(served.url).path
        with stalled_uploads(served.url, f"{path}/campaigns", 1, credentials) as (stalled,):
            started = time.monotonic()
            received = b""
            while chunk := stalled.recv(65536):
                received += chunk
            closed_in = time.monotonic() - started
        served.interrupt()
    assert closed_in < 4, f"the stalled upload was held {closed_in:.1f} s"
    if server == "granian":
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), received[:200]
        assert b"--body-timeout" in body, f"the 408 came without its body: {received!r}"  # readable, then cut
    else:  # waitress reads bodies before the app: the stalled connection is closed when idle too long
        assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]


class Trickle:
    """``count`` connections sending a request head one byte at a time (never idle, never
    whole), from one thread, until stopped or ``seconds`` pass; notes when each was closed."""

    def __init__(self, url: str, count: int, every: float = 0.3, seconds: float = 15.0) -> None:
        self.connections = [socket.create_connection(address(url), timeout=5) for _ in range(count)]
        self.started = time.monotonic()
        self.closed_at: dict[int, float] = {}
        self._every = every
        self._until = self.started + seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for connection in self.connections:
            with suppress(OSError):
                connection.sendall(f"GET /campaigns HTTP/1.1\r\n{HOST}\r\nX-Slow: ".encode())
        while not self._stop.is_set() and time.monotonic() < self._until:
            for index, connection in enumerate(self.connections):
                if index in self.closed_at:
                    continue
                try:
                    connection.setblocking(False)
                    try:
                        gone = connection.recv(1) == b""
                    except BlockingIOError:
                        gone = False
                    connection.setblocking(True)
                    if not gone:
                        connection.sendall(b"a")
                except OSError:
                    gone = True
                if gone:
                    self.closed_at[index] = time.monotonic() - self.started
            self._stop.wait(self._every)

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for connection in self.connections:
            connection.close()

    def wait_all_closed(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.closed_at) < len(self.connections):
            time.sleep(0.1)
        return len(self.closed_at) == len(self.connections)


def test_headers_trickled_a_byte_at_a_time_are_closed_at_the_header_timeout(server: str) -> None:
    with serving("--server", server, "--no-request-log", "--header-timeout", "1", "--idle-timeout", "30") as served:
        with Trickle(served.url, 50) as trickle:
            time.sleep(0.5)
            answered_in, status = timed(
                lambda: requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5).status_code
            )
            all_closed = trickle.wait_all_closed(8)
            latest = max(trickle.closed_at.values(), default=0.0)
        served.interrupt()
    print(f"{server}, 50 trickling heads: a request answered in {answered_in:.3f} s, the last closed at {latest:.1f} s")
    assert status == 200
    assert answered_in < 1
    assert all_closed, f"{50 - len(trickle.closed_at)} of 50 trickling connections still open after 8 s"
    assert latest < 4, f"a trickling connection was held {latest:.1f} s with --header-timeout 1"


def test_a_connection_cap_full_of_trickling_heads_still_serves_whole_requests(server: str) -> None:
    """50 trickling connections against --max-connections 20: waitress closes the one waiting
    longest for each new connection; granian cannot, and holds them until --header-timeout."""
    header_timeout = "10" if server == "waitress" else "1"
    bound = 1.0 if server == "waitress" else 2.5
    args = ("--max-connections", "20", "--header-timeout", header_timeout, "--idle-timeout", "30")
    with serving("--server", server, "--no-request-log", *args) as served:
        with Trickle(served.url, 50):
            time.sleep(0.5)
            answered_in, status = timed(
                lambda: requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=10).status_code
            )
        served.interrupt()
    print(f"{server}, --max-connections 20, 50 trickling heads: a whole request answered in {answered_in:.3f} s")
    assert status == 200
    assert answered_in < bound, f"a whole request waited {answered_in:.1f} s behind trickling heads"


def test_a_doubly_framed_request_smuggles_nothing_and_its_connection_closes(server: str) -> None:
    """Content-Length and Transfer-Encoding: chunked together (RFC 9112 6.3: refuse it, or read
    it by its chunks; either way close the connection after answering). waitress refuses it
    with 400. granian cannot: hyper drops the Content-Length before the app sees the request
    (the WSGI environ has only the Transfer-Encoding), reads the chunks and closes. Under both,
    a request hidden after the body is never answered."""
    with serving("--server", server, "--no-request-log") as served:
        path = urlsplit(served.url).path
        body = b'{"name": "Smuggled"}'
        with closing(socket.create_connection(address(served.url), timeout=5)) as connection:
            connection.sendall(
                f"POST {path}/campaigns HTTP/1.1\r\n{HOST}\r\nAuthorization: Bearer demo-key\r\n"
                "Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
                + f"DELETE {path}/campaigns/1 HTTP/1.1\r\n{HOST}\r\nAuthorization: Bearer demo-key\r\n\r\n".encode()
            )
            received, closed = b"", False
            with suppress(TimeoutError):
                while chunk := connection.recv(65536):
                    received += chunk
                closed = True  # the server closed it (a timeout would have left it open)
        served.interrupt()
    assert received.count(b"HTTP/1.1 ") == 1, received[:600]
    assert closed, "the connection stayed open after a doubly framed request"
    if server == "waitress":
        assert received.startswith(b"HTTP/1.1 400"), received[:300]
    else:
        assert received.startswith(b"HTTP/1.1 201"), received[:300]
        assert b"connection: close" in received.lower()

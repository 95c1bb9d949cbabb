"""A shared mock nobody can lock out (issue 21): stalled uploads, headers sent a byte at a
time, and a connection cap full of them must not keep other clients waiting, under either
server; a doubly framed body is never taken for a campaign.

Every client here is bounded in count and time; every process is ours and stopped by its PID.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from urllib.parse import urlsplit

import pytest
import requests

from tests.cli_process import serving

SERVERS = ("waitress", "granian")
AUTH = {"Authorization": "Bearer demo-key"}
HOST = "Host: 127.0.0.1"
STALLED_UPLOADS = 8


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return str(parts.hostname), int(parts.port or 80)


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
        assert received.startswith(b"HTTP/1.1 408"), received[:200]
    else:  # waitress reads bodies before the app: the stalled connection is closed when idle too long
        assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]

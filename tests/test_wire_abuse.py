"""Abuse on the wire, against the real CLI under both HTTP servers: chunked bodies, stalled
bodies, idle connections, oversized bodies, doubly framed bodies, a killed parent, a taken port.

Every client here is bounded in time; every process is ours and stopped by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from urllib.parse import urlsplit

import requests

from tests.cli_process import address, children_of, run_cli, serving

AUTH = {"Authorization": "Bearer demo-key"}
PROBLEM = "application/problem+json"


@contextmanager
def raw_connection(url: str, timeout: float = 10.0) -> Iterator[socket.socket]:
    with closing(socket.create_connection(address(url), timeout=timeout)) as connection:
        yield connection


def read_answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection or goes quiet."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                ),
                None,
            )
            if length is not None and len(body) >= length:
                break
    except TimeoutError:
        pass
    return received


def chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def test_a_chunked_body_is_read_whole(server: str) -> None:
    with serving("--server", server, "--no-request-log") as served:
        path = urlsplit(served.url).path
        with raw_connection(served.url) as connection:
            connection.sendall(
                f"POST {path}/campaigns HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer demo-key\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
                + chunked(b'{"name": "Chunked"}')
            )
            created = read_answer(connection)
        campaign = json.loads(created.partition(b"\r\n\r\n")[2])
        requests.post(f"{served.url}/campaigns/{campaign['id']}/activate", headers=AUTH, timeout=5)
        with raw_connection(served.url) as connection:
            connection.sendall(
                f"POST {path}/campaigns/{campaign['id']}/pause HTTP/1.1\r\nHost: localhost\r\n"
                "Authorization: Bearer demo-key\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode()
                + chunked(b'{"reason": "Budget review"}')
            )
            paused = read_answer(connection)
        events = requests.get(f"{served.url}/campaigns/{campaign['id']}/events", headers=AUTH, timeout=5).json()
        served.interrupt()
    assert created.startswith(b"HTTP/1.1 201"), created[:300]
    assert campaign["name"] == "Chunked"
    assert paused.startswith(b"HTTP/1.1 200"), paused[:300]
    assert events["data"][-1]["reason"] == "Budget review"


def test_a_stalled_body_is_timed_out_and_other_clients_are_served_meanwhile(server: str) -> None:
    with serving("--server", server, "--no-request-log", "--body-timeout", "1", "--idle-timeout", "2") as served:
        path = urlsplit(served.url).path
        with raw_connection(served.url) as stalled:
            stalled.sendall(
                f"POST {path}/campaigns HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer demo-key\r\n"
                'Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"name"'.encode()
            )
            time.sleep(0.2)
            started = time.monotonic()
            others = [requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5).status_code for _ in range(5)]
            served_within = time.monotonic() - started
            answer = read_answer(stalled)
        served.interrupt()
    assert others == [200] * 5
    assert served_within < 4, "other clients waited for the stalled one"
    if server == "granian":
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    else:  # waitress reads bodies before the app: the stalled connection is closed when idle too long
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(server: str) -> None:
    with serving("--server", server, "--no-request-log", "--max-body-bytes", "1024") as served:
        path = urlsplit(served.url).path
        with raw_connection(served.url, timeout=5) as connection:
            connection.sendall(
                f"POST {path}/campaigns HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer demo-key\r\n"
                f"Content-Type: application/json\r\nContent-Length: {1 << 30}\r\n\r\n".encode()
            )
            answer = read_answer(connection)  # nothing of the body was sent: the answer must come anyway
        served.interrupt()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert PROBLEM.encode() in head.lower()
    assert json.loads(body)["status"] == 413


def test_a_body_framed_by_both_length_and_chunks_is_refused_and_the_connection_closed() -> None:
    with serving("--no-request-log") as served:
        path = urlsplit(served.url).path
        with raw_connection(served.url, timeout=5) as connection:
            connection.sendall(
                f"POST {path}/campaigns HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer demo-key\r\n"
                "Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                + chunked(b'{"name": "Smuggled"}')
            )
            answer = read_answer(connection)
            closed = connection.recv(1) == b""
        listed = requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5).json()
        served.interrupt()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"Transfer-Encoding" in body
    assert closed
    assert listed["pagination"]["total"] == 0


def test_idle_connections_do_not_lock_other_clients_out() -> None:
    with serving("--no-request-log") as served:
        idle = [socket.create_connection(address(served.url), timeout=5) for _ in range(150)]
        try:
            started = time.monotonic()
            status = requests.get(f"{served.url}/campaigns", headers=AUTH, timeout=5).status_code
            waited = time.monotonic() - started
        finally:
            for connection in idle:
                connection.close()
        served.interrupt()
    assert status == 200
    assert waited < 2


def test_a_second_server_on_a_taken_port_fails_with_one_line(server: str) -> None:
    with serving("--server", server, "--no-request-log") as served:
        _, port = address(served.url)
        second = run_cli("serve", "--server", server, "--port", str(port), timeout=60)
        served.interrupt()
    assert second.returncode == 2
    assert second.stderr.strip() == f"campaign-mock: error: cannot listen on 127.0.0.1:{port}: Address already in use"


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_granians_worker_dies_with_its_parent_even_after_kill_9() -> None:
    with serving("--server", "granian", "--no-request-log") as served:
        _, port = address(served.url)
        workers = children_of(served.process.pid)
        served.process.send_signal(signal.SIGKILL)  # our own process, by its PID
        served.process.communicate(timeout=10)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _port_answers(port):
                time.sleep(0.1)
            still_serving = _port_answers(port)
        finally:
            for pid in workers:  # the worker we started, should it have outlived the test
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert workers, "granian forked no worker"
    assert not still_serving, "the worker lived on after its parent was killed"

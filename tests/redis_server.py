"""A real ``redis-server`` (Debian's package) on a free loopback port, started and stopped by
the tests, by its PID. Missing locally: the test is skipped with the line that installs it;
missing under CI (``CI`` set): the test fails, since CI installs it (``.ci/run``)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL = "sudo apt-get install redis-server"
START_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        message = f"redis-server is not installed; {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must install it: see .ci/run)")
        pytest.skip(message)
    return found


class RedisProcess:
    """One redis-server with no persistence, in its own folder; ``stop`` and ``start`` again
    on the same port stand for an outage and a restart."""

    def __init__(self, folder: Path, *settings: str) -> None:
        """``settings``: more redis-server flags, as ``--maxmemory 2mb`` (later ones win)."""
        self.binary = redis_server_binary()
        self.folder = folder
        self.port = free_port()
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--loglevel",
                "warning",
                *self.settings,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # our own redis-server, by its PID
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="session")
def redis_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """One Redis per test worker for the whole run; tests keep apart by namespace."""
    server = RedisProcess(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_process: RedisProcess) -> str:
    if redis_process.process is None or redis_process.process.poll() is not None:
        redis_process.start()
    return redis_process.url


@pytest.fixture
def namespace() -> str:
    """A namespace of the test's own: what it stores never meets another test's."""
    return f"test-{uuid.uuid4().hex[:12]}"

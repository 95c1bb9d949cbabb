"""Start ``campaign-mock`` as a real subprocess and read its start-up lines, bounded in time."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

URL_LINE = re.compile(r"at (http://\S+)")
START_TIMEOUT_SECONDS = 30.0


def address(url: str) -> tuple[str, int]:
    """(host, port) of a served URL, for raw sockets."""
    parts = urlsplit(url)
    return str(parts.hostname), int(parts.port or 80)


def cli_command() -> list[str]:
    """The installed console script next to this Python, else the module."""
    script = Path(sys.executable).parent / "campaign-mock"
    if script.exists():
        return [str(script)]
    found = shutil.which("campaign-mock")
    return [found] if found else [sys.executable, "-m", "campaign_mock"]


def run_cli(*args: str, timeout: float = 60.0, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_command(), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False
    )


def quick_check(url: str) -> subprocess.CompletedProcess[str]:
    """``campaign-mock check`` of the mock served at ``url``, with few examples and a short timer
    step: the whole kit, quick enough to run against every server and store."""
    spec = f"{url}/openapi.yaml"
    return run_cli(
        *("check", "--spec", spec, "--base-url", url, "--api-key", "demo-key"),
        *("--max-examples", "5", "--timer-step", "0.6"),
        timeout=240,
    )


class ServeProcess:
    def __init__(self, process: subprocess.Popen[str], url: str, banner: list[str]) -> None:
        self.process = process
        self.url = url
        self.banner = banner

    def interrupt(self, timeout: float = 15.0, signum: int = signal.SIGINT) -> tuple[int, str, str]:
        """Ctrl-C (SIGINT, or ``signum``) this process only, by its PID; its exit code and remaining output."""
        self.process.send_signal(signum)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err


def children_of(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux /proc)."""
    listed = [Path(task, "children").read_text().split() for task in Path(f"/proc/{pid}/task").iterdir()]
    return [int(child) for children in listed for child in children]


def hard_kill(served: ServeProcess) -> None:
    """``kill -9`` the server and, under granian, its workers first (each by its PID, all ours):
    nothing gets to finish or flush."""
    for worker in children_of(served.process.pid):
        with suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
    served.process.kill()
    served.process.communicate(timeout=10)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def serving(*args: str, as_background_job: bool = False) -> Iterator[ServeProcess]:
    """``campaign-mock serve --port 0 ARGS``; yields once it printed its URL, always stopped after.

    ``as_background_job`` starts it with SIGINT ignored, as ``cmd &`` in a script does.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [*cli_command(), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_ignore_sigint if as_background_job else None,  # noqa: PLW1509 (no threads started yet matter here)
    )
    try:
        banner: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        url = None
        assert process.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            banner.append(line.rstrip("\n"))
            match = URL_LINE.search(line)
            url = match.group(1) if match else None
        if url is None:
            process.kill()
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"campaign-mock serve did not start: {banner} {err}")
        banner.extend(process.stdout.readline().rstrip("\n") for _ in range(3))  # keys, store, spec
        yield ServeProcess(process, url, banner)
    finally:
        if process.poll() is None:
            # SIGINT first: under granian the process is a parent that stops its own worker;
            # SIGKILL would leave the worker running on the port.
            process.send_signal(signal.SIGINT)
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=10)

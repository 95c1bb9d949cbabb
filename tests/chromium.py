"""Headless Chromium for the browser tests (Debian's chromium and chromedriver; .ci/run installs both)."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run installs it (apt-get install chromium chromium-driver)")
        pytest.skip("Chromium is not installed: apt-get install chromium chromium-driver (as root) to run this test")


def rendered_dom(url: str) -> str:
    """The page's DOM after its scripts ran."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@contextmanager
def served_folder(folder: Path) -> Iterator[str]:
    """``folder`` over loopback HTTP while the block runs (pages and their frames share an origin)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@contextmanager
def browser(width: int = 1400, height: int = 1200) -> Iterator[Any]:
    """Headless Chromium driven through Debian's chromedriver (Selenium), closed after the block.
    Both binaries are given by path, so Selenium never looks for or downloads a driver."""
    from selenium import webdriver  # noqa: PLC0415 (a test dependency, only needed here)
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        try:
            driver.set_page_load_timeout(30)
            yield driver
        finally:
            driver.quit()

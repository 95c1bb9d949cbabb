"""The conformance kit finds the mock conformant whatever keeps its state: SQLite, Redis, and
two granian workers sharing Redis (the kit steers the clock and resets the mock through
whichever process answers, so this also proves the shared clock and reset). The memory
store is checked under both HTTP servers in ``test_servers``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_process import quick_check, serving


def _store_args(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> list[str]:
    if kind == "sqlite":
        return ["--store", f"sqlite:{tmp_path / 'kit.db'}"]
    url = request.getfixturevalue("redis_url")
    args = ["--store", url, "--store-namespace", request.getfixturevalue("namespace")]
    if kind == "redis-2-workers":
        args += ["--server", "granian", "--workers", "2"]
    return args


@pytest.mark.parametrize("kind", ["sqlite", "redis", "redis-2-workers"])
def test_the_kit_finds_the_mock_conformant_on_each_store(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with serving(*_store_args(kind, tmp_path, request), "--no-request-log") as served:
        result = quick_check(served.url)
        served.interrupt()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Result: conformant." in result.stdout

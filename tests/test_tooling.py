"""The code base stays lint-clean, formatted and type-checked (ruff and mypy from pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).parent / name
    return subprocess.run([str(executable), *args], capture_output=True, text=True, cwd=REPO, timeout=300, check=False)


def test_ruff_finds_no_lint_problem() -> None:
    result = tool("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_has_nothing_to_change() -> None:
    result = tool("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_no_type_error() -> None:
    result = tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr

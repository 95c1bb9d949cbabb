"""Options for running the kit inside pytest: ``pytest --pyargs campaign_mock.conformance --base-url URL``.

Registered through the ``pytest11`` entry point. ``--base-url`` is shared with the
pytest-base-url plugin when that is installed (same meaning, same destination).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from campaign_mock.conformance.context import DEFAULT_SEED


def _add(group: Any, *names: str, **kwargs: Any) -> None:
    # ValueError: another plugin (pytest-base-url) registered it already, with the same meaning.
    with contextlib.suppress(ValueError):
        group.addoption(*names, **kwargs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("campaign-mock conformance", "campaign-mock check, from pytest")
    _add(group, "--base-url", dest="base_url", default=None, help="where the implementation under test serves the spec")
    _add(group, "--conformance-spec", default="campaigns", help="the contract: a path, a bundled name or a URL")
    _add(group, "--conformance-api-key", default=None, help="a valid API key for the implementation")
    _add(group, "--conformance-header", action="append", default=[], help="'Name: value' on every request; repeatable")
    _add(group, "--conformance-only", default="", help="comma-separated rule groups to run")
    _add(group, "--conformance-skip", default="", help="comma-separated rule groups to leave out")
    _add(group, "--conformance-seed", type=int, default=DEFAULT_SEED, help="seed for schemathesis")
    _add(group, "--conformance-max-examples", type=int, default=20, help="examples per operation in fuzzing")
    _add(
        group,
        "--conformance-sandbox",
        default=None,
        help=(
            "auto (a sandbox of the kit's own where the target has them), off, or a sandbox NAME, as check "
            "--sandbox (default: auto under pytest-xdist, where each worker runs the kit, else off)"
        ),
    )
    _add(
        group,
        "--conformance-allow-unchecked",
        action="store_true",
        default=False,
        help="let a group that could check nothing pass (as check --allow-unchecked)",
    )

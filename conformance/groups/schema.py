"""``schema``: schemathesis' examples, coverage and fuzzing phases with all built-in checks."""

from __future__ import annotations

from campaign_mock.conformance.context import KitContext
from campaign_mock.conformance.groups.engine import run_engine
from campaign_mock.conformance.results import GroupResult

GROUP = "schema"


def run(context: KitContext) -> GroupResult:
    return run_engine(context, GROUP, {"examples", "coverage", "fuzzing"})

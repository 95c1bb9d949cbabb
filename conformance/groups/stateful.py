"""``stateful``: schemathesis' stateful phase, walking the spec's explicit links."""

from __future__ import annotations

from campaign_mock.conformance.context import KitContext
from campaign_mock.conformance.groups.engine import run_engine
from campaign_mock.conformance.results import GroupResult

GROUP = "stateful"


def run(context: KitContext) -> GroupResult:
    return run_engine(context, GROUP, {"stateful"})

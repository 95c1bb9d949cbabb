"""The lifecycle model reads x-lifecycle as data and answers questions from it alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from campaign_mock.contract.errors import ContractError
from campaign_mock.contract.lifecycle import parse_lifecycle
from campaign_mock.contract.operations import Contract

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _document(**lifecycle: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "initial": "new",
        "terminal": ["gone"],
        "transitions": {"go": {"from": ["new"], "to": "live"}, "drop": {"from": ["new", "live"], "to": "gone"}},
    }
    base.update(lifecycle)
    return {"x-lifecycle": base}


def test_states_are_collected_from_the_extension_with_the_initial_state_first(contract: Contract) -> None:
    lifecycle = contract.lifecycle
    assert lifecycle.states[0] == "draft"
    assert set(lifecycle.states) == {"draft", "scheduled", "active", "paused", "canceled", "completed"}


def test_allowed_actions_follow_the_from_lists(contract: Contract) -> None:
    lifecycle = contract.lifecycle
    assert lifecycle.allowed_actions("draft") == ["activate", "cancel"]
    assert lifecycle.allowed_actions("paused") == ["resume", "cancel", "complete"]
    assert lifecycle.allowed_actions("canceled") == []


def test_a_guard_sends_activate_to_scheduled_only_for_a_future_start(contract: Contract) -> None:
    lifecycle = contract.lifecycle
    future, past = NOW + timedelta(hours=1), NOW - timedelta(hours=1)
    assert (
        lifecycle.landing_state("activate", lambda field: future if field == "start_at" else None, NOW) == "scheduled"
    )
    assert lifecycle.landing_state("activate", lambda field: past if field == "start_at" else None, NOW) == "active"
    assert lifecycle.landing_state("activate", lambda field: None, NOW) == "active"


def test_a_custom_lifecycle_needs_no_code() -> None:
    lifecycle = parse_lifecycle(_document())
    assert lifecycle.states == ("new", "live", "gone")
    assert lifecycle.allowed_actions("live") == ["drop"]
    assert lifecycle.is_terminal("gone")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "x-lifecycle: missing"),
        (_document(initial=""), "x-lifecycle.initial"),
        (_document(transitions={}), "at least one action"),
        (_document(transitions={"go": {"from": [], "to": "live"}}), "x-lifecycle.transitions.go.from"),
        (_document(conflict=200), "x-lifecycle.conflict"),
        (_document(timers=[{"from": ["live"], "to": "gone"}]), "x-lifecycle.timers[0].at"),
    ],
)
def test_a_malformed_extension_is_named_precisely(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ContractError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_lifecycle(document)

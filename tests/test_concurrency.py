"""Under concurrent actions over HTTP every move is atomic: histories are legal paths."""

from __future__ import annotations

from campaign_mock.contract.operations import Contract
from tests.concurrency_check import hammer_and_check
from tests.conftest import AUTH


def test_concurrent_actions_and_updates_leave_legal_histories_and_no_5xx(live_url: str, contract: Contract) -> None:
    hammer_and_check([live_url], contract, AUTH)

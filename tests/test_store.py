"""The in-memory store: atomic compare-and-set, and status pages in creation order."""

from __future__ import annotations

import pytest

from campaign_mock.server.stores.store import InMemoryCampaignStore, StaleVersion


def _stored(count: int) -> InMemoryCampaignStore:
    store = InMemoryCampaignStore()
    for number in range(count):
        store.insert(f"c{number}", {"id": f"c{number}", "status": "draft"})
    return store


def _move(store: InMemoryCampaignStore, campaign_id: str, status: str) -> None:
    record = store.get(campaign_id)
    assert record is not None
    store.replace(campaign_id, record.version, {**record.campaign, "status": status}, None)


def test_a_status_page_lists_in_creation_order_whatever_order_the_moves_came_in() -> None:
    store = _stored(6)
    for campaign_id in ("c4", "c1", "c3"):
        _move(store, campaign_id, "active")
    _move(store, "c0", "paused")
    page, total = store.page("status", frozenset({"active"}), 0, 10)
    assert ([c["id"] for c in page], total) == (["c1", "c3", "c4"], 3)
    page, total = store.page("status", frozenset({"active", "paused"}), 1, 2)
    assert ([c["id"] for c in page], total) == (["c1", "c3"], 4)
    page, total = store.page("status", None, 4, 10)
    assert ([c["id"] for c in page], total) == (["c4", "c5"], 6)


def test_deleted_and_reset_campaigns_leave_the_index() -> None:
    store = _stored(3)
    store.delete("c1")
    assert store.page("status", frozenset({"draft"}), 0, 10)[1] == 2
    store.reset()
    assert store.page("status", frozenset({"draft"}), 0, 10) == ([], 0)


def test_a_write_against_an_old_version_is_refused() -> None:
    store = _stored(1)
    _move(store, "c0", "active")
    with pytest.raises(StaleVersion):
        store.replace("c0", 1, {"id": "c0", "status": "paused"}, None)


def test_reads_are_copies_the_caller_cannot_change_the_store_through() -> None:
    store = InMemoryCampaignStore()
    store.insert("c", {"id": "c", "status": "draft", "settings": {"daily_limit": 5}})
    record = store.get("c")
    assert record is not None
    record.campaign["settings"]["daily_limit"] = 99
    again = store.get("c")
    assert again is not None
    assert again.campaign["settings"]["daily_limit"] == 5

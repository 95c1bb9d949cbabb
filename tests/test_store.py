"""Every backend keeps the store's promises alike: atomic compare-and-set, status pages in
creation order, copies out, bounds, histories, timers popped once, ids that continue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from campaign_mock.server.domain.ids import SequentialIds
from campaign_mock.server.stores.base import Backend, StaleVersion, StoreFull, WorldSpec, WorldStores
from campaign_mock.server.stores.memory import MemoryBackend
from campaign_mock.server.stores.sqlite import SqliteBackend
from campaign_mock.server.traffic.ratelimit import parse_windows
from tests.conftest import START

BACKENDS = ("memory", "sqlite", "redis")


def _backend(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Backend:
    if kind == "memory":
        return MemoryBackend()
    if kind == "sqlite":
        backend = SqliteBackend(str(tmp_path / "store.db"))
        backend.open("Campaign lifecycle API")
        return backend
    from campaign_mock.server.stores.redis_backend import RedisBackend, RedisOptions  # noqa: PLC0415

    url = request.getfixturevalue("redis_url")
    return RedisBackend(RedisOptions(url, request.getfixturevalue("namespace")))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = _backend(request.param, tmp_path, request)
    yield made
    made.close()


def _world(backend: Backend, name: str = "default", capacity: int | None = None) -> WorldStores:
    return backend.world(name, WorldSpec("status", capacity, 100, 1 << 20, SequentialIds()))


def _stored(world: WorldStores, count: int) -> None:
    for number in range(count):
        world.campaigns.insert(f"c{number}", {"id": f"c{number}", "status": "draft"})


def _move(world: WorldStores, campaign_id: str, status: str) -> None:
    record = world.campaigns.get(campaign_id)
    assert record is not None
    world.campaigns.replace(campaign_id, record.version, {**record.campaign, "status": status}, None)


def test_a_status_page_lists_in_creation_order_whatever_order_the_moves_came_in(backend: Backend) -> None:
    world = _world(backend)
    _stored(world, 6)
    for campaign_id in ("c4", "c1", "c3"):
        _move(world, campaign_id, "active")
    _move(world, "c0", "paused")
    page, total = world.campaigns.page("status", frozenset({"active"}), 0, 10)
    assert ([c["id"] for c in page], total) == (["c1", "c3", "c4"], 3)
    page, total = world.campaigns.page("status", frozenset({"active", "paused"}), 1, 2)
    assert ([c["id"] for c in page], total) == (["c1", "c3"], 4)
    page, total = world.campaigns.page("status", None, 4, 10)
    assert ([c["id"] for c in page], total) == (["c4", "c5"], 6)
    page, total = world.campaigns.page("status", None, 0, 10, match=lambda c: c["id"] in ("c2", "c5"))
    assert ([c["id"] for c in page], total) == (["c2", "c5"], 2)


def test_deleted_and_reset_campaigns_leave_the_index(backend: Backend) -> None:
    world = _world(backend)
    _stored(world, 3)
    assert world.campaigns.delete("c1") is True
    assert world.campaigns.delete("c1") is False
    assert world.campaigns.page("status", frozenset({"draft"}), 0, 10)[1] == 2
    assert world.campaigns.count() == 2
    world.campaigns.reset()
    assert world.campaigns.page("status", frozenset({"draft"}), 0, 10) == ([], 0)
    assert world.campaigns.count() == 0


def test_a_write_against_an_old_version_is_refused_and_changes_nothing(backend: Backend) -> None:
    world = _world(backend)
    _stored(world, 1)
    _move(world, "c0", "active")
    with pytest.raises(StaleVersion):
        world.campaigns.replace("c0", 1, {"id": "c0", "status": "paused"}, {"action": "pause"})
    record = world.campaigns.get("c0")
    assert record is not None
    assert (record.campaign["status"], record.version, record.event_count) == ("active", 2, 0)
    assert world.campaigns.page("status", frozenset({"paused"}), 0, 10) == ([], 0)


def test_a_transition_moves_the_campaign_its_version_its_event_and_the_index_together(backend: Backend) -> None:
    world = _world(backend)
    _stored(world, 1)
    written = world.campaigns.replace("c0", 1, {"id": "c0", "status": "active"}, {"action": "activate"})
    assert (written.version, written.event_count) == (2, 1)
    assert world.campaigns.events("c0") == ([{"action": "activate"}], 1)
    assert [c["id"] for c in world.campaigns.page("status", frozenset({"active"}), 0, 10)[0]] == ["c0"]
    assert world.campaigns.page("status", frozenset({"draft"}), 0, 10)[1] == 0


def test_a_read_is_a_snapshot_no_later_write_nor_the_writers_own_input_changes(backend: Backend) -> None:
    """Copy on write: what a write is given is copied in, and a read keeps what it read; the
    memory store hands out its stored objects read-only (no caller changes what it reads)."""
    world = _world(backend)
    given: dict[str, Any] = {"id": "c", "status": "draft", "settings": {"daily_limit": 5}}
    world.campaigns.insert("c", given)
    given["settings"]["daily_limit"] = 99
    read = world.campaigns.get("c")
    assert read is not None
    assert read.campaign["settings"]["daily_limit"] == 5
    moved: dict[str, Any] = {"id": "c", "status": "active", "settings": {"daily_limit": 7}}
    event: dict[str, Any] = {"action": "activate", "from": "draft", "to": "active"}
    world.campaigns.replace("c", read.version, moved, event)
    moved["settings"]["daily_limit"] = 1
    event["to"] = "paused"
    assert read.campaign["status"] == "draft"
    assert read.campaign["settings"]["daily_limit"] == 5
    again = world.campaigns.get("c")
    assert again is not None
    assert again.campaign["settings"]["daily_limit"] == 7
    assert world.campaigns.events("c") == ([{"action": "activate", "from": "draft", "to": "active"}], 1)


def test_a_taken_id_and_a_full_store_are_refused(backend: Backend) -> None:
    world = _world(backend, capacity=2)
    _stored(world, 2)
    with pytest.raises(StaleVersion):
        world.campaigns.insert("c0", {"id": "c0", "status": "draft"})
    with pytest.raises(StoreFull):
        world.campaigns.insert("c9", {"id": "c9", "status": "draft"})


def test_a_history_pages_oldest_first(backend: Backend) -> None:
    world = _world(backend)
    events = [{"n": number} for number in range(5)]
    world.campaigns.insert("c", {"id": "c", "status": "draft"}, events, version=3)
    record = world.campaigns.get("c")
    assert record is not None
    assert (record.version, record.event_count) == (3, 5)
    assert world.campaigns.events("c", 1, 2) == ([{"n": 1}, {"n": 2}], 5)
    assert world.campaigns.events("missing") is None


def test_a_due_timer_pops_once_and_an_earlier_moment_wins(backend: Backend) -> None:
    world = _world(backend)
    world.timers.schedule("late", START + timedelta(hours=2))
    world.timers.schedule("soon", START + timedelta(hours=3))
    world.timers.schedule("soon", START + timedelta(hours=1))
    assert world.timers.pop_due(START) == []
    assert world.timers.pop_due(START + timedelta(hours=2)) == ["soon", "late"]
    assert world.timers.pop_due(START + timedelta(hours=5)) == []


def test_sequential_ids_continue_after_the_highest_in_use(backend: Backend) -> None:
    world = _world(backend)
    assert world.ids.new_id() == "cmp_1"
    world.ids.observe("cmp_41")
    assert world.ids.new_id() == "cmp_42"


def test_sandboxes_keep_apart_and_a_dropped_one_leaves_nothing(backend: Backend) -> None:
    first, second = _world(backend, "a"), _world(backend, "b")
    _stored(first, 2)
    assert second.campaigns.count() == 0
    backend.drop("a")
    assert _world(backend, "a").campaigns.count() == 0


@pytest.mark.parametrize("algorithm", ["fixed-window", "token-bucket"])
def test_a_rate_limit_counts_alike_on_every_backend_at_any_fraction_of_a_second(
    backend: Backend, algorithm: str
) -> None:
    windows = parse_windows("10/s")
    limiter = _world(backend).limiter(algorithm, windows)
    for step in range(7):
        moment = START + timedelta(seconds=10 * step + step / 7 + 1e-6 * step)
        allowed = [limiter.hit(f"bucket-{step}", moment).allowed for _ in range(12)]
        assert allowed == [True] * 10 + [False] * 2, (step, allowed)
        later = limiter.hit(f"bucket-{step}", moment + timedelta(seconds=1.001))
        assert later.allowed


def test_the_sqlite_read_cache_keeps_no_read_that_a_delete_overtook_and_no_older_version() -> None:
    from campaign_mock.server.stores.base import Record  # noqa: PLC0415
    from campaign_mock.server.stores.read_cache import ReadCache  # noqa: PLC0415

    cache = ReadCache(capacity=2)
    began = cache.generation("s")
    cache.forget("s", "c")  # a delete committed while the read was under way
    cache.offer("s", "c", Record({"id": "c"}, 1), began)
    assert cache.get("s", "c") is None
    cache.written("s", "c", Record({"id": "c", "v": 3}, 3))
    cache.offer("s", "c", Record({"id": "c", "v": 2}, 2), cache.generation("s"))  # a slower read of v2
    assert cache.get("s", "c") == Record({"id": "c", "v": 3}, 3)
    cache.written("s", "d", Record({"id": "d"}, 1))
    cache.written("s", "e", Record({"id": "e"}, 1))  # past capacity: the oldest goes
    assert (cache.get("s", "c"), cache.get("s", "e")) == (None, Record({"id": "e"}, 1))
    cache.forget("s")
    assert cache.get("s", "d") is None


def test_sqlite_reads_after_a_restart_come_from_the_file(tmp_path: Path) -> None:
    first = SqliteBackend(str(tmp_path / "state.db"))
    first.open("spec")
    world = _world(first)
    world.campaigns.insert("c", {"id": "c", "status": "draft"})
    world.campaigns.replace("c", 1, {"id": "c", "status": "active"}, None)
    first.close()
    again = SqliteBackend(str(tmp_path / "state.db"))
    again.open("spec")
    read = _world(again).campaigns.get("c")
    again.close()
    assert read is not None
    assert (read.campaign["status"], read.version) == ("active", 2)

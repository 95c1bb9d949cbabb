"""A shared mock nobody can wipe, fill or crash: what a Redis store that loses, evicts, stalls,
fills or flaps does to the answers. Each test starts a ``redis-server`` of its own (its own
settings, its own faults), stops it by its PID, and is bounded in time.

- a Redis flushed or restarted empty is a lost namespace (503 saying so) until an admin reset,
  never an empty world, and ids are not issued again after it;
- a Redis that may evict keys is refused at start; a key missing behind the mock's back is a
  503 that says so, never a 500 or a listing with a total and no items;
- a write sent and not answered says its outcome is unknown; one never sent says nothing was kept;
- a namespace written for another contract is refused at start;
- a full Redis: one line at start, 507 on a write at run time;
- a flapping Redis is logged once per outage, not per request;
- dropping a sandbox costs in proportion to its keys, not a SCAN of the keyspace.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from campaign_mock.server.domain.errors import StoreLost, StoreOutcomeUnknown, StoreUnavailable
from campaign_mock.server.domain.ids import SequentialIds
from campaign_mock.server.stores.base import WorldSpec, WorldStores
from campaign_mock.server.stores.redis_link import RedisLink
from tests.cli_process import ServeProcess, run_cli, serving
from tests.conftest import REPO
from tests.redis_server import RedisProcess

KEY = {"Authorization": "Bearer shared-key"}
ADMIN = {"X-Campaign-Mock": "1"}
WOODPECKER = str(REPO / "openapi" / "profiles" / "woodpecker.yaml")


@contextmanager
def _redis(tmp_path: Path, *settings: str) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path, *settings)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            os.kill(server.process.pid, signal.SIGCONT)  # never leave it stopped
        server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server for this test alone: it may flush, fill, stop or pause it."""
    with _redis(tmp_path) as server:
        yield server


def _serve(server: RedisProcess, namespace: str, *extra: str) -> Any:
    return serving(
        "--store", server.url, "--store-namespace", namespace, "--api-key", "shared-key", "--no-request-log", *extra
    )


def _control(server: RedisProcess) -> redis.Redis:
    return redis.Redis.from_url(server.url, socket_timeout=5)


def _create(served: ServeProcess, name: str) -> requests.Response:
    return requests.post(f"{served.url}/campaigns", json={"name": name}, headers=KEY, timeout=10)


def _backend(server: RedisProcess, namespace: str) -> Any:
    from campaign_mock.server.stores.redis_backend import RedisBackend, RedisOptions  # noqa: PLC0415

    return RedisBackend(RedisOptions(server.url, namespace))


def _world(backend: Any, name: str = "default") -> WorldStores:
    world: WorldStores = backend.world(name, WorldSpec("status", None, 100, 1 << 20, SequentialIds()))
    assert world.clock is not None
    world.clock.update(lambda reading: reading)  # the clock a world is made with (the factory's reset)
    return world


# -- 2. lost state: flushed, or restarted empty ---------------------------------------------------------


def _assert_lost(answer: requests.Response, namespace: str) -> None:
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert body["type"].endswith("store-state-lost"), body
    assert namespace in body["detail"]
    assert "lost the state" in body["detail"]
    assert "POST /__admin/reset" in body["detail"]


def test_a_flushed_redis_is_a_lost_namespace_until_an_admin_reset_not_an_empty_world(
    own_redis: RedisProcess, namespace: str
) -> None:
    with _serve(own_redis, namespace, "--freeze-clock") as served:
        made = [_create(served, f"before-{n}").json()["id"] for n in range(3)]
        frozen = requests.get(f"{served.url}/__admin/clock", timeout=10).json()
        _control(own_redis).flushall()
        after = [
            requests.get(f"{served.url}/campaigns/{made[0]}", headers=KEY, timeout=10),
            requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10),
            _create(served, "during"),
            requests.get(f"{served.url}/__admin/clock", timeout=10),
        ]
        reset = requests.post(f"{served.url}/__admin/reset", headers=ADMIN, timeout=10)
        again = _create(served, "after")
        old = requests.get(f"{served.url}/campaigns/{made[0]}", headers=KEY, timeout=10)
        clock = requests.get(f"{served.url}/__admin/clock", timeout=10).json()
        _, _, log = served.interrupt()
    for answer in after:
        _assert_lost(answer, namespace)
    assert reset.status_code == 204, reset.text
    assert again.status_code == 201, again.text
    assert again.json()["id"] not in made
    assert old.status_code == 404
    assert frozen["frozen"] is True
    assert clock["frozen"] is True  # the configured clock again, not a clock reset by the loss
    assert log.count("lost the state of namespace") == 1, log
    assert "is served again" in log
    assert "Traceback" not in log


def test_a_redis_restarted_empty_is_a_lost_namespace_not_an_empty_world(
    own_redis: RedisProcess, namespace: str
) -> None:
    with _serve(own_redis, namespace) as served:
        made = _create(served, "acknowledged").json()["id"]
        own_redis.stop()
        own_redis.start()  # no persistence: empty
        answers = [
            requests.get(f"{served.url}/campaigns/{made}", headers=KEY, timeout=10),
            requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10),
        ]
        served.interrupt()
    for answer in answers:
        _assert_lost(answer, namespace)


def test_a_reset_through_one_replica_resumes_every_replica(own_redis: RedisProcess, namespace: str) -> None:
    with _serve(own_redis, namespace) as first, _serve(own_redis, namespace) as second:
        assert _create(first, "before").status_code == 201
        _control(own_redis).flushall()
        lost = [requests.get(f"{server.url}/campaigns", headers=KEY, timeout=10) for server in (first, second)]
        reset = requests.post(f"{first.url}/__admin/reset", headers=ADMIN, timeout=10)
        made = _create(second, "after")
        listed = requests.get(f"{first.url}/campaigns", headers=KEY, timeout=10)
        first.interrupt()
        _, _, log = second.interrupt()
    for answer in lost:
        _assert_lost(answer, namespace)
    assert reset.status_code == 204
    assert made.status_code == 201, made.text
    assert [campaign["name"] for campaign in listed.json()["data"]] == ["after"]
    assert "is served again (another process reset it" in log


def test_ids_continue_above_a_floor_after_the_reset_of_a_lost_namespace(
    own_redis: RedisProcess, namespace: str
) -> None:
    """Sequential ids (integer ids, as Altcraft's) start at 1 in a new namespace; after a loss and
    the admin reset they continue above the Unix time, so an id an old client holds is not issued
    again (Altcraft's mock reissued 1 to 3 and an old client's call on 1 hit another campaign)."""
    backend = _backend(own_redis, namespace)
    try:
        world = _world(backend)
        issued = [world.ids.new_id() for _ in range(3)]
        assert issued == ["cmp_1", "cmp_2", "cmp_3"]
        _control(own_redis).flushall()
        assert world.begin is not None
        world.begin(time.time())
        with pytest.raises(StoreLost):
            world.ids.new_id()
        with pytest.raises(StoreLost):
            world.campaigns.get("cmp_1")
        world.campaigns.reset()  # what POST /__admin/reset does first
        fresh = int(world.ids.new_id().removeprefix("cmp_"))
        assert fresh > time.time() - 60
        assert world.campaigns.get("cmp_1") is None
    finally:
        backend.close()


# -- 1. eviction -------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-ttl"])
def test_a_redis_that_may_evict_keys_is_refused_at_start_with_one_line(
    tmp_path: Path, namespace: str, policy: str
) -> None:
    with _redis(tmp_path, "--maxmemory", "64mb", "--maxmemory-policy", policy) as server:
        result = run_cli("serve", "--port", "0", "--store", server.url, "--store-namespace", namespace)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"campaign-mock: error: the Redis store {server.url} may evict")
        assert f"maxmemory-policy {policy}" in lines[0]
        assert "noeviction" in lines[0]


def test_a_redis_that_hides_its_config_is_served_with_a_warning(tmp_path: Path, namespace: str) -> None:
    with _redis(tmp_path, "--rename-command", "CONFIG", "") as server:
        with _serve(server, namespace) as served:
            assert _create(served, "ok").status_code == 201
            _, _, log = served.interrupt()
        assert "cannot read the maxmemory-policy" in log
        assert "noeviction" in log


def test_keys_missing_behind_the_mock_are_a_503_that_says_so_never_a_500(
    own_redis: RedisProcess, namespace: str
) -> None:
    prefix = f"{{{namespace}:default}}"
    control = _control(own_redis)
    with _serve(own_redis, namespace) as served:
        made = [_create(served, f"c{n}").json()["id"] for n in range(3)]
        control.delete(f"{prefix}:ver")  # what allkeys-lru did to one hash
        read = requests.get(f"{served.url}/campaigns/{made[0]}", headers=KEY, timeout=10)
        moved = requests.post(f"{served.url}/campaigns/{made[1]}/activate", headers=KEY, timeout=10)
        control.delete(f"{prefix}:docs")
        listed = requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10)
        control.delete(f"{prefix}:clock")  # the frozen clock, evicted
        clock = requests.get(f"{served.url}/__admin/clock", timeout=10)
        _, _, log = served.interrupt()
    for answer in (read, moved, listed, clock):
        assert answer.status_code == 503, (answer.status_code, answer.text)
        assert answer.json()["type"].endswith("store-state-lost"), answer.text
        assert "lost" in answer.json()["detail"]
    assert "unexpected error" not in log
    assert "Traceback" not in log


# -- 3. answers that do not lie -----------------------------------------------------------------------


def test_a_write_sent_and_not_answered_is_an_unknown_outcome_and_a_write_never_sent_was_not_kept(
    own_redis: RedisProcess, namespace: str
) -> None:
    backend = _backend(own_redis, namespace)
    try:
        world = _world(backend)
        world.campaigns.insert("c1", {"id": "c1", "status": "draft"})
        world.campaigns.replace("c1", 1, {"id": "c1", "status": "draft"}, None)  # Redis knows the script now
        assert own_redis.process is not None
        pid = own_redis.process.pid
        os.kill(pid, signal.SIGSTOP)  # our own redis-server: it takes the write and runs it later
        started = time.monotonic()
        try:
            with pytest.raises(StoreOutcomeUnknown) as unknown:
                world.campaigns.replace("c1", 2, {"id": "c1", "status": "active"}, {"action": "activate"})
        finally:
            os.kill(pid, signal.SIGCONT)
        assert time.monotonic() - started < 5
        assert "may or may not have been applied" in unknown.value.detail
        assert "nothing of this request was kept" not in unknown.value.detail
        deadline = time.monotonic() + 5
        record = world.campaigns.get("c1")
        while record is not None and record.version == 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            record = world.campaigns.get("c1")
        assert record is not None
        assert record.campaign["status"] == "active"  # it was applied after all
        own_redis.stop()
        RedisLink.begin_request()  # another request
        with pytest.raises(StoreUnavailable) as refused:
            world.campaigns.insert("c2", {"id": "c2", "status": "draft"})
        assert not isinstance(refused.value, StoreOutcomeUnknown)
        assert "nothing of this request was kept" in refused.value.detail
    finally:
        backend.close()


# -- 4. one contract per namespace ----------------------------------------------------------------------


def test_a_namespace_written_for_another_contract_is_refused_at_start(own_redis: RedisProcess, namespace: str) -> None:
    with _serve(own_redis, namespace) as served:
        assert _create(served, "canonical").status_code == 201
        served.interrupt()
    result = run_cli(
        "serve", "--port", "0", "--spec", WOODPECKER, "--store", own_redis.url, "--store-namespace", namespace
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert namespace in lines[0]
    assert "holds the campaigns of 'Campaign lifecycle API'" in lines[0]
    assert "--store-namespace" in lines[0]


# -- 5. a full Redis ------------------------------------------------------------------------------------


def _fill(control: redis.Redis) -> None:
    """Write until Redis refuses (bounded)."""
    for number in range(200_000):
        try:
            control.set(f"filler:{number}", "x" * 1000)
        except redis.exceptions.OutOfMemoryError:
            return
    raise AssertionError("Redis never filled")


def test_a_full_redis_stops_the_start_with_one_line(tmp_path: Path, namespace: str) -> None:
    with _redis(tmp_path, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction") as server:
        _fill(_control(server))
        result = run_cli("serve", "--port", "0", "--store", server.url, "--store-namespace", namespace)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"campaign-mock: error: the Redis store {server.url} is full")


def test_a_write_to_a_full_redis_is_a_507_and_reads_go_on(own_redis: RedisProcess, namespace: str) -> None:
    control = _control(own_redis)
    with _serve(own_redis, namespace) as served:
        made = _create(served, "before").json()["id"]
        control.config_set("maxmemory", "1")  # below what it holds: every write is refused
        try:
            full = _create(served, "while full")
            renamed = requests.patch(f"{served.url}/campaigns/{made}", json={"name": "new"}, headers=KEY, timeout=10)
            read = requests.get(f"{served.url}/campaigns/{made}", headers=KEY, timeout=10)
        finally:
            control.config_set("maxmemory", "0")
        after = _create(served, "after")
        _, _, log = served.interrupt()
    for answer in (full, renamed):
        assert answer.status_code == 507, answer.text
        assert answer.headers["Content-Type"] == "application/problem+json"
        assert "full" in answer.json()["detail"]
    assert read.status_code == 200
    assert read.json()["name"] == "before"
    assert after.status_code == 201
    assert log.count("is full") == 1, log


# -- 6. a flapping Redis ----------------------------------------------------------------------------------


def test_a_flapping_redis_is_logged_once_per_outage_with_the_count_of_failed_requests(
    own_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    from campaign_mock.server.stores.redis_link import connect  # noqa: PLC0415

    def broken(client: redis.Redis) -> None:
        raise redis.ConnectionError("Connection closed by server.")

    link = RedisLink(own_redis.url, connect(own_redis.url))
    caplog.set_level(logging.INFO, logger="campaign_mock.store")
    try:
        for _ in range(5):
            with pytest.raises(StoreUnavailable):
                link.call(broken)
        link.call(lambda client: client.ping())
        told = [record.getMessage() for record in caplog.records]
        assert len(told) == 2, told
        assert "failed" in told[0]
        assert "is back" in told[1]
        assert "5 request(s) failed" in told[1]
        caplog.clear()
        for _ in range(1000):  # flapping: fails, answers, fails, ...
            with pytest.raises(StoreUnavailable):
                link.call(broken)
            link.call(lambda client: client.ping())
        assert len(caplog.records) <= 2, [record.getMessage() for record in caplog.records][:6]
    finally:
        link.client.close()


# -- 7. dropping a sandbox ----------------------------------------------------------------------------------


def test_dropping_a_sandbox_costs_its_own_keys_not_a_scan_of_the_keyspace(
    own_redis: RedisProcess, namespace: str
) -> None:
    control = _control(own_redis)
    with control.pipeline(transaction=False) as pipe:
        for number in range(20_000):
            pipe.set(f"other:{number}", "x")
        pipe.execute()
    backend = _backend(own_redis, namespace)
    try:
        for name in ("doomed", "kept"):
            world = _world(backend, name)
            for number in range(50):
                world.campaigns.insert(f"c{number}", {"id": f"c{number}", "status": "draft"}, [{"action": "create"}])
                if number % 2:
                    world.campaigns.replace(f"c{number}", 1, {"id": f"c{number}", "status": "active"}, {"a": 1})
        doomed = f"{{{namespace}:doomed}}"
        assert len(list(control.scan_iter(match=doomed + ":*", count=10_000))) > 50
        control.config_resetstat()
        backend.drop("doomed")
        stats = control.info("commandstats")
    finally:
        backend.close()
    scans = stats.get("cmdstat_scan", {}).get("calls", 0)
    calls = sum(int(entry["calls"]) for name, entry in stats.items() if name != "cmdstat_info")
    assert scans == 0, stats
    assert calls < 30, stats  # in proportion to 50 campaigns and their 2 statuses, in batches
    assert list(control.scan_iter(match=doomed + ":*", count=10_000)) == []
    assert control.hlen(f"{{{namespace}:kept}}:docs") == 50
    assert control.dbsize() > 20_000

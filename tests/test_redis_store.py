"""``--store redis://``: two processes (replicas, or granian workers) naming one Redis are one
mock, proven over real processes and a real ``redis-server``: atomic transitions across them,
one rate limit, one clock, one journal, nothing lost when a replica is killed, and a Redis
that fails answers 503 with Retry-After, never a 500 or a hang, then recovers by itself."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
import redis
import requests

from campaign_mock.contract.operations import Contract
from campaign_mock.server.admin_client import AdminClient
from tests.cli_process import ServeProcess, hard_kill, run_cli, serving
from tests.concurrency_check import hammer_and_check
from tests.redis_server import RedisProcess

KEY = {"Authorization": "Bearer shared-key"}


@contextmanager
def replicas(url: str, namespace: str, *extra: str, count: int = 2) -> Iterator[list[ServeProcess]]:
    """``count`` waitress servers on their own ports, one store."""
    with ExitStack() as stack:
        yield [
            stack.enter_context(
                serving(
                    "--store",
                    url,
                    "--store-namespace",
                    namespace,
                    "--api-key",
                    "shared-key",
                    "--no-request-log",
                    *extra,
                )
            )
            for _ in range(count)
        ]


def test_two_replicas_on_one_redis_are_one_mock(redis_url: str, namespace: str) -> None:
    with replicas(redis_url, namespace) as (first, second):
        assert any(f"store {redis_url} (namespace {namespace})" in line for line in first.banner), first.banner
        made = requests.post(f"{first.url}/campaigns", json={"name": "Shared"}, headers=KEY, timeout=10).json()
        moved = requests.post(f"{second.url}/campaigns/{made['id']}/activate", headers=KEY, timeout=10)
        requests.post(f"{first.url}/__admin/clock/advance", json={"seconds": 3600}, timeout=10)
        clock_first = requests.get(f"{first.url}/__admin/clock", timeout=10).json()["now"]
        clock_second = requests.get(f"{second.url}/__admin/clock", timeout=10).json()["now"]
        faults = [{"operation": "getCampaign", "error_rate": 1.0, "error_status": 503}]
        requests.put(f"{second.url}/__admin/faults", json={"faults": faults}, timeout=10)
        faulted = requests.get(f"{first.url}/campaigns/{made['id']}", headers=KEY, timeout=10)
        journal = requests.get(f"{second.url}/__admin/journal", timeout=10).json()
        requests.put(f"{first.url}/__admin/sandboxes/team", headers={"X-Campaign-Mock": "1"}, timeout=10)
        listed = requests.get(f"{second.url}/__admin/sandboxes", timeout=10).json()
    assert moved.status_code == 200
    assert moved.json()["status"] == "active"
    assert abs(_seconds(clock_first) - _seconds(clock_second)) < 5
    assert faulted.status_code == 503
    assert {entry["operation_id"] for entry in journal["data"]} >= {"createCampaign", "activateCampaign"}
    assert [sandbox["name"] for sandbox in listed["data"]] == ["default", "team"]


def _seconds(stamp: str) -> float:
    from campaign_mock.contract.timefmt import parse_timestamp  # noqa: PLC0415

    moment = parse_timestamp(stamp)
    assert moment is not None
    return moment.timestamp()


def test_concurrent_moves_through_two_replicas_leave_legal_histories(
    redis_url: str, namespace: str, contract: Contract
) -> None:
    with replicas(redis_url, namespace) as servers:
        statuses = hammer_and_check([server.url for server in servers], contract, KEY)
    assert not [status for status in statuses if status >= 500]


def _burst(urls: list[str], count: int) -> Counter[int]:
    """``count`` requests at once, each on a fresh connection, spread over ``urls``."""

    def one(number: int) -> int:
        url = urls[number % len(urls)]
        return requests.get(f"{url}/campaigns", headers={**KEY, "Connection": "close"}, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        return Counter(pool.map(one, range(count)))


LIMITED = ("--rate-limit", "10/s", "--rate-limit-scope", "global", "--freeze-clock")


def test_a_rate_limit_of_10_per_second_holds_across_two_replicas(redis_url: str, namespace: str) -> None:
    with replicas(redis_url, namespace, *LIMITED) as servers:
        answered = _burst([server.url for server in servers], 40)
    assert answered == Counter({200: 10, 429: 30}), answered


def test_a_rate_limit_of_10_per_second_holds_across_two_granian_workers(redis_url: str, namespace: str) -> None:
    args = ("--server", "granian", "--workers", "2", "--store", redis_url, "--store-namespace", namespace)
    with serving(*args, "--api-key", "shared-key", "--no-request-log", *LIMITED) as served:
        assert any("; 2 workers" in line for line in served.banner), served.banner
        answered = _burst([served.url], 40)
        served.interrupt()
    assert answered == Counter({200: 10, 429: 30}), answered


def test_killing_one_replica_loses_nothing_the_other_serves_every_campaign(redis_url: str, namespace: str) -> None:
    with replicas(redis_url, namespace) as (doomed, survivor):
        with requests.Session() as http:
            made = [
                http.post(f"{doomed.url}/campaigns", json={"name": f"k{n}"}, headers=KEY, timeout=10).json()["id"]
                for n in range(60)
            ]
            for campaign_id in made[::2]:
                assert http.post(f"{doomed.url}/campaigns/{campaign_id}/activate", headers=KEY, timeout=10).ok
        hard_kill(doomed)
        with requests.Session() as http:
            found = [http.get(f"{survivor.url}/campaigns/{i}", headers=KEY, timeout=10).json() for i in made]
    served = [campaign["id"] for campaign in found if campaign.get("id") in made]
    print(f"kill -9 of one replica: {len(made)} campaigns acknowledged, {len(made) - len(served)} lost")  # pytest -s
    assert [campaign["id"] for campaign in found] == made
    assert [campaign["status"] for campaign in found[::2]] == ["active"] * 30


def test_redis_down_answers_503_with_retry_after_then_recovers_by_itself(
    redis_process: RedisProcess, redis_url: str, namespace: str
) -> None:
    with replicas(redis_url, namespace, count=1) as (served,):
        made = requests.post(f"{served.url}/campaigns", json={"name": "Before"}, headers=KEY, timeout=10)
        assert made.status_code == 201
        redis_process.stop()
        started = time.monotonic()
        down = [
            requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10),
            requests.post(f"{served.url}/campaigns", json={"name": "During"}, headers=KEY, timeout=10),
            requests.post(f"{served.url}/campaigns/{made.json()['id']}/activate", headers=KEY, timeout=10),
        ]
        took = time.monotonic() - started
        redis_process.start()
        lost = requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10)  # it restarted empty
        requests.post(f"{served.url}/__admin/reset", headers={"X-Campaign-Mock": "1"}, timeout=10)
        back = requests.post(f"{served.url}/campaigns", json={"name": "After"}, headers=KEY, timeout=10)
        listed = requests.get(f"{served.url}/campaigns", headers=KEY, timeout=10)
        journal = requests.get(f"{served.url}/__admin/journal", timeout=10).json()  # its script was lost too
        _, _, log = served.interrupt()
    assert [answer.status_code for answer in down] == [503, 503, 503]
    assert all(answer.headers["Retry-After"] == "1" for answer in down)
    assert all(answer.headers["Content-Type"] == "application/problem+json" for answer in down)
    assert all(answer.json()["status"] == 503 and "Redis" in answer.json()["detail"] for answer in down)
    assert took < 10, f"three answers took {took:.1f} s while Redis was down"
    assert lost.status_code == 503  # a Redis without persistence restarts empty: lost, until a reset
    assert "lost the state" in lost.json()["detail"]
    assert (back.status_code, [c["name"] for c in listed.json()["data"]]) == (201, ["After"])
    assert [entry["operation_id"] for entry in journal["data"]][-2:] == ["listCampaigns", "createCampaign"]
    assert "the Redis store" in log
    assert "failed" in log
    assert "is back" in log


def test_a_stalled_redis_times_out_as_503_and_leaves_no_move_half_applied(
    redis_url: str, namespace: str, contract: Contract
) -> None:
    with replicas(redis_url, namespace, count=1) as (served,):
        with requests.Session() as http:
            ids = [
                http.post(f"{served.url}/campaigns", json={"name": f"s{n}"}, headers=KEY, timeout=10).json()["id"]
                for n in range(5)
            ]
        control = redis.Redis.from_url(redis_url)
        control.client_pause(3000, all=True)
        with ThreadPoolExecutor(max_workers=5) as pool:
            answers = list(
                pool.map(lambda i: requests.post(f"{served.url}/campaigns/{i}/activate", headers=KEY, timeout=20), ids)
            )
        time.sleep(3.2)
        after = [requests.get(f"{served.url}/campaigns/{i}", headers=KEY, timeout=10) for i in ids]
        histories = [requests.get(f"{served.url}/campaigns/{i}/events", headers=KEY, timeout=10).json() for i in ids]
        served.interrupt()
        control.close()
    assert {answer.status_code for answer in answers} <= {200, 503}
    for answer, current, history in zip(answers, after, histories, strict=True):
        version = int(current.headers["ETag"].strip('"'))
        events = history["data"]
        assert version == 1 + len(events), "a version without its event, or an event without its version"
        expected = "active" if events else contract.lifecycle.initial
        assert current.json()["status"] == expected
        if answer.status_code == 200:
            assert len(events) == 1


def test_a_redis_that_is_not_there_stops_the_start_with_one_line() -> None:
    result = run_cli("serve", "--port", "0", "--store", "redis://127.0.0.1:1/0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("campaign-mock: error: cannot reach the Redis store redis://127.0.0.1:1/0")


@pytest.mark.parametrize("text", ["redis://", "redis://host:port/0", "redis://h/abc", "mysql://x", "sqlite:"])
def test_a_malformed_store_url_is_a_one_line_usage_error(text: str) -> None:
    result = run_cli("serve", "--port", "0", "--store", text)
    assert result.returncode == 2
    assert result.stderr.startswith("campaign-mock: error: --store: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_password_in_the_store_url_is_never_shown() -> None:
    result = run_cli("serve", "--port", "0", "--store", "redis://:sekrit@127.0.0.1:1/0")
    assert result.returncode == 2
    assert "sekrit" not in result.stderr
    assert "cannot reach the Redis store redis://:***@127.0.0.1:1/0" in result.stderr


def test_the_journal_writer_outlives_a_batch_it_cannot_write(redis_url: str, namespace: str) -> None:
    """A batch that fails with something other than a Redis error (redis-py raised an
    AttributeError once, on a connection closed under it) loses its entries, never the writer
    thread: the next entry is written, and reads do not wait out their timeout."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from campaign_mock.server.stores.redis_journal import JournalWriter, RedisJournal  # noqa: PLC0415
    from campaign_mock.server.stores.redis_link import RedisLink, connect  # noqa: PLC0415
    from campaign_mock.server.traffic.journal import JournalEntry  # noqa: PLC0415

    def entry(headers: Any) -> JournalEntry:
        moment = datetime(2026, 12, 1, tzinfo=UTC)
        return JournalEntry(moment, "GET", "/campaigns", "", 200, headers, None, 1.0, "listCampaigns", None)

    link = RedisLink(redis_url, connect(redis_url))
    journal = RedisJournal(link, JournalWriter(link), f"{{{namespace}:default}}", 100, 1 << 20)
    journal.record(entry(headers=[("not", "a", "mapping")]))  # dict() of it raises ValueError in the writer
    time.sleep(0.2)
    journal.record(entry(headers={"Accept": "*/*"}))
    started = time.monotonic()
    entries, total = journal.entries()
    assert time.monotonic() - started < 2
    assert total == 1
    assert entries[0].headers == {"Accept": "*/*"}
    link.client.close()


def test_the_journals_of_a_namespace_stay_within_one_budget_across_replicas(redis_url: str, namespace: str) -> None:
    budget = 512 * 1024
    with replicas(redis_url, namespace, "--journal-total-bytes", str(budget)) as servers:
        quiet = f"{servers[0].url}/sandboxes/quiet"
        assert requests.get(f"{quiet}/campaigns", headers=KEY, timeout=10).status_code == 200
        for number, sandbox in enumerate(("n1", "n2", "n3", "n4")):
            url = f"{servers[number % 2].url}/sandboxes/{sandbox}/campaigns"
            for _ in range(25):  # 100 requests of 60 KB through two processes: 6 MB offered
                answer = requests.post(url, json={"name": 1, "pad": "x" * 60_000}, headers=KEY, timeout=10)
                assert answer.status_code in (400, 422)
        held = {}
        for number, sandbox in enumerate(("quiet", "n1", "n2", "n3", "n4")):
            admin = AdminClient(servers[number % 2].url).for_sandbox(sandbox)
            held[sandbox] = sum(len(entry["body"] or "") for entry in admin.journal(limit=10_000))
        assert len(AdminClient(servers[0].url).for_sandbox("quiet").journal()) == 1
    assert sum(held.values()) <= budget

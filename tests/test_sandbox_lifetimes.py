"""Making, using and dropping a sandbox exclude each other: a sandbox in use is not dropped under
its requests, what a request wrote never shows in the next sandbox of that name, and the limit
holds across processes sharing one store. Real servers, real SQLite and Redis."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from campaign_mock.server.admin_client import AdminClient
from tests.test_redis_store import replicas
from tests.test_sandboxes import KEY, create, server, total

JSON = {"Content-Type": "application/json"}


def test_a_sandbox_used_more_often_than_its_ttl_is_never_dropped(tmp_path: Path) -> None:
    with server(sandbox_ttl=1, store=f"sqlite:{tmp_path / 'state.db'}") as root:
        box = f"{root}/sandboxes/busy"
        campaign = create(box)
        stop = threading.Event()

        def other_traffic() -> None:  # another sandbox's requests, every 0.1 s: sweeps may come at any moment
            while not stop.wait(0.1):
                requests.get(f"{root}/sandboxes/other/campaigns", headers=KEY, timeout=10)

        neighbour = threading.Thread(target=other_traffic)
        neighbour.start()
        try:
            answers = []
            deadline = time.monotonic() + 8.0
            while time.monotonic() < deadline:  # one request every 0.85 s: never idle for 1 s
                time.sleep(0.85)
                answers.append(requests.get(f"{box}/campaigns/{campaign['id']}", headers=KEY, timeout=10).status_code)
        finally:
            stop.set()
            neighbour.join(timeout=10)
        assert set(answers) == {200}


def test_a_create_in_flight_while_its_sandbox_is_dropped_never_shows_in_the_next_sandbox_of_that_name(
    tmp_path: Path,
) -> None:
    with server(store=f"sqlite:{tmp_path / 'state.db'}") as root:
        box = f"{root}/sandboxes/doomed"
        create(box)
        slow = {"faults": [{"operation": "createCampaign", "latency_ms": 1500}]}
        assert requests.put(f"{box}/__admin/faults", json=slow, timeout=10).status_code == 200
        answers: list[int] = []
        writer = threading.Thread(
            target=lambda: answers.append(
                requests.post(f"{box}/campaigns", json={"name": "Late"}, headers=KEY, timeout=30).status_code
            )
        )
        writer.start()
        time.sleep(0.4)  # the create is inside the mock, in its latency
        dropped = requests.delete(f"{root}/__admin/sandboxes/doomed", headers=JSON, timeout=30)
        writer.join(timeout=30)
        assert dropped.status_code == 204
        assert answers == [201]
        assert total(box) == 0  # a new sandbox "doomed": nothing of the old one, the late create included


def test_max_sandboxes_holds_across_three_processes_on_one_redis(redis_url: str, namespace: str) -> None:
    limit = 20
    with replicas(redis_url, namespace, "--max-sandboxes", str(limit), count=3) as servers:
        key = {"Authorization": "Bearer shared-key"}

        def make(number: int) -> int:
            url = f"{servers[number % 3].url}/sandboxes/box-{number}/campaigns"
            return requests.get(url, headers=key, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(make, range(60)))
        listed = AdminClient(servers[0].url).sandboxes()
    assert statuses.count(200) == limit
    assert statuses.count(507) == 60 - limit
    assert len(listed) == limit + 1  # and the default one


def test_a_write_in_flight_in_another_process_when_its_sandbox_is_dropped_is_refused_not_kept(
    redis_url: str, namespace: str
) -> None:
    with replicas(redis_url, namespace, count=2) as (writer, dropper):
        key = {"Authorization": "Bearer shared-key"}
        box = f"{writer.url}/sandboxes/doomed"
        assert requests.get(f"{box}/campaigns", headers=key, timeout=10).status_code == 200
        slow = {"faults": [{"operation": "createCampaign", "latency_ms": 1500}]}
        assert requests.put(f"{box}/__admin/faults", json=slow, timeout=10).status_code == 200
        answers: list[requests.Response] = []
        late = threading.Thread(
            target=lambda: answers.append(
                requests.post(f"{box}/campaigns", json={"name": "Late"}, headers=key, timeout=30)
            )
        )
        late.start()
        time.sleep(0.5)  # the create waits in its latency, inside the writer process
        dropped = requests.delete(f"{dropper.url}/__admin/sandboxes/doomed", headers=JSON, timeout=30)
        late.join(timeout=30)
        time.sleep(1.2)  # past the writer's recheck of the shared index
        again = requests.get(f"{writer.url}/sandboxes/doomed/campaigns", headers=key, timeout=10).json()
    assert dropped.status_code == 204
    assert answers[0].status_code == 503, answers[0].text  # refused: the sandbox changed under it
    assert "nothing of this request was kept" in answers[0].json()["detail"]
    assert again["pagination"]["total"] == 0  # nothing of the old sandbox, the late create included

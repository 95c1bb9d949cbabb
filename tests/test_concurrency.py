"""Under concurrent actions over HTTP every move is atomic: histories are legal paths."""

from __future__ import annotations

import random
import threading
from collections import Counter

import requests

from campaign_mock.contract.operations import Contract
from tests.conftest import AUTH

THREADS = 8
ACTIONS_PER_THREAD = 40


def test_concurrent_actions_and_updates_leave_legal_histories_and_no_5xx(live_url: str, contract: Contract) -> None:
    lifecycle = contract.lifecycle
    actions = list(lifecycle.transitions)
    with requests.Session() as http:
        ids = [
            http.post(f"{live_url}/campaigns", json={"name": f"c{n}"}, headers=AUTH, timeout=10).json()["id"]
            for n in range(3)
        ]

    successes: Counter[tuple[str, str]] = Counter()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        with requests.Session() as http:
            for step in range(ACTIONS_PER_THREAD):
                campaign_id, action = rng.choice(ids), rng.choice([*actions, "update"])
                url = f"{live_url}/campaigns/{campaign_id}"
                if action == "update":
                    patch = {"name": f"t{seed}-{step}", "settings": {"daily_limit": step + 1}}
                    answer = http.patch(url, json=patch, headers=AUTH, timeout=10)
                else:
                    answer = http.post(f"{url}/{action}", headers=AUTH, timeout=10)
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code == 200 and action != "update":
                        successes[(campaign_id, action)] += 1

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert set(statuses) <= {200, lifecycle.conflict_status}, statuses
    assert sum(statuses.values()) == THREADS * ACTIONS_PER_THREAD
    with requests.Session() as http:
        for campaign_id in ids:
            events = http.get(f"{live_url}/campaigns/{campaign_id}/events", headers=AUTH, timeout=10).json()["data"]
            state = lifecycle.initial
            for event in events:
                move = lifecycle.transitions[event["action"]]
                assert event["from"] == state, events
                assert state in move.sources, events
                assert event["to"] in move.targets()
                state = event["to"]
            current = http.get(f"{live_url}/campaigns/{campaign_id}", headers=AUTH, timeout=10).json()["status"]
            assert current == state
            recorded = Counter(event["action"] for event in events)
            assert recorded == Counter({action: n for (cid, action), n in successes.items() if cid == campaign_id})

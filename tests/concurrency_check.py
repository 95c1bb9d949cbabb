"""Many threads firing actions and updates at a few campaigns through one or several servers,
then the proof: every history is a legal path, every success has its event, versions only
rise (no two successes wrote the same version), and nothing answered 5xx."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import requests

from campaign_mock.contract.operations import Contract

THREADS = 8
ACTIONS_PER_THREAD = 40


def hammer_and_check(
    urls: Sequence[str], contract: Contract, headers: Mapping[str, str], campaigns: int = 3
) -> Counter[int]:
    """Run the load spread over ``urls`` and assert the claims; the statuses answered."""
    lifecycle = contract.lifecycle
    actions = list(lifecycle.transitions)
    with requests.Session() as http:
        ids = [
            http.post(f"{urls[0]}/campaigns", json={"name": f"c{n}"}, headers=headers, timeout=10).json()["id"]
            for n in range(campaigns)
        ]
    successes: Counter[tuple[str, str]] = Counter()
    statuses: Counter[int] = Counter()
    versions: dict[str, list[int]] = defaultdict(list)
    rising = True
    lock = threading.Lock()

    def worker(seed: int) -> None:
        nonlocal rising
        rng = random.Random(seed)
        seen: dict[str, int] = {}
        with requests.Session() as http:
            for step in range(ACTIONS_PER_THREAD):
                base = urls[(seed + step) % len(urls)]
                campaign_id, action = rng.choice(ids), rng.choice([*actions, "update"])
                url = f"{base}/campaigns/{campaign_id}"
                if action == "update":
                    patch = {"name": f"t{seed}-{step}", "settings": {"daily_limit": step + 1}}
                    answer = http.patch(url, json=patch, headers=headers, timeout=10)
                else:
                    answer = http.post(f"{url}/{action}", headers=headers, timeout=10)
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code == 200:
                        version = int(answer.headers["ETag"].strip('"'))
                        versions[campaign_id].append(version)
                        if version <= seen.get(campaign_id, 0):
                            rising = False
                        seen[campaign_id] = version
                        if action != "update":
                            successes[(campaign_id, action)] += 1

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert set(statuses) <= {200, lifecycle.conflict_status}, statuses
    assert sum(statuses.values()) == THREADS * ACTIONS_PER_THREAD
    assert rising, "a thread saw a campaign's version go back"
    for campaign_id, written in versions.items():
        assert len(written) == len(set(written)), f"two successes wrote the same version of {campaign_id}"
    with requests.Session() as http:
        for campaign_id in ids:
            events = http.get(f"{urls[-1]}/campaigns/{campaign_id}/events", headers=headers, timeout=10).json()["data"]
            state = lifecycle.initial
            for event in events:
                move = lifecycle.transitions[event["action"]]
                assert event["from"] == state, events
                assert state in move.sources, events
                assert event["to"] in move.targets()
                state = event["to"]
            current = http.get(f"{urls[-1]}/campaigns/{campaign_id}", headers=headers, timeout=10).json()["status"]
            assert current == state
            recorded = Counter(event["action"] for event in events)
            assert recorded == Counter({action: n for (cid, action), n in successes.items() if cid == campaign_id})
    return statuses

"""The app's own cost per request, called in-process (WSGI, no HTTP server), against a bare
Falcon app answering a constant JSON object: getCampaign, listCampaigns and a transition.

    .venv/bin/python bench/inprocess.py [--requests 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import falcon
from ceiling_app import Constant
from sandboxes import caller

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings

KEY = "bench-key"  # the key sandboxes.caller sends
ROUNDS = 5

Call = Callable[[], tuple[int, bytes]]


def _cycling(calls: list[Call]) -> Call:
    """Each call the next of ``calls``: pause every campaign, then resume every one, ..."""
    step = [0]

    def call() -> tuple[int, bytes]:
        step[0] += 1
        return calls[(step[0] - 1) % len(calls)]()

    return call


def costs(requests: int = 5000) -> dict[str, float]:
    """Microseconds per request, the median of interleaved rounds, for each kind of request."""
    bare = falcon.App()
    bare.add_route("/constant", Constant())
    app = assemble(ServeSettings(api_keys=[KEY], log_requests=False, max_events=100_000)).app
    seeding = json.dumps({"campaigns": [{"name": f"Bench {n}", "status": "active"} for n in range(100)]})
    status, answer = caller(app, "POST", "/__admin/campaigns", seeding.encode())()
    if status != 201:
        raise SystemExit(f"bench: seeding answered {status}: {answer[:200]!r}")
    ids = [stored["id"] for stored in json.loads(answer)["data"]]
    moves = [caller(app, "POST", f"/campaigns/{c}/{verb}") for verb in ("pause", "resume") for c in ids]
    calls: dict[str, Call] = {
        "bare Falcon app": caller(bare, "GET", "/constant"),
        "getCampaign": caller(app, "GET", f"/campaigns/{ids[0]}"),
        "listCampaigns (status=active, 20)": caller(app, "GET", "/campaigns", query="status=active&limit=20"),
        "pause or resume": _cycling(moves),
    }
    rounds: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(ROUNDS):
        for label, call in calls.items():
            started = time.perf_counter()
            for _ in range(requests // ROUNDS):
                answered, body = call()
                if answered != 200:
                    raise SystemExit(f"bench: {label} answered {answered}: {body[:200]!r}")
            rounds[label].append((time.perf_counter() - started) / (requests // ROUNDS) * 1e6)
    return {label: statistics.median(values) for label, values in rounds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per figure (default: 5000)")
    args = parser.parse_args()
    figures = costs(args.requests)
    bare = figures["bare Falcon app"]
    for label, microseconds in figures.items():
        print(f"{label:34} {microseconds:8.1f} us  ({microseconds / bare:.1f}x bare Falcon)")


if __name__ == "__main__":
    main()

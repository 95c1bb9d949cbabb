"""What a sandbox costs: a request to one against a request to the default world, and the
memory 1,000 idle sandboxes hold. Prints figures; asserts nothing (the issue's targets are
printed beside them).

    .venv/bin/python bench/sandboxes.py [--requests 20000] [--sandboxes 1000]

The app is called in-process (WSGI, no HTTP server), so the figure is the app's own cost per
request: the HTTP server adds the same to both.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings

KEY = "bench-key"
ROUNDS = 10


def expect(holds: bool, answer: bytes) -> None:
    if not holds:
        raise SystemExit(f"bench: unexpected answer: {answer[:300]!r}")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def caller(app: Any, method: str, path: str, body: bytes = b"", query: str = "") -> Callable[[], tuple[int, bytes]]:
    """A function that sends one request to the WSGI app and answers its status and body."""
    base = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost:80",  # as every HTTP/1.1 request carries one: the Host check runs
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.input_terminated": True,
        "HTTP_AUTHORIZATION": f"Bearer {KEY}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
    }
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.append(status)

    def call() -> tuple[int, bytes]:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(body)
        answer = b"".join(app(environ, start_response))
        return int(seen.pop()[:3]), answer

    return call


def per_request_us(call: Callable[[], tuple[int, bytes]], count: int) -> float:
    for _ in range(200):
        call()
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per figure (default: 20000)")
    parser.add_argument("--sandboxes", type=int, default=1000, help="idle sandboxes to make (default: 1000)")
    args = parser.parse_args()
    app = assemble(ServeSettings(api_keys=[KEY], log_requests=False, max_sandboxes=args.sandboxes + 10)).app
    ids = {}
    for prefix in ("", "/sandboxes/bench"):
        status, created = caller(app, "POST", f"{prefix}/campaigns", json.dumps({"name": "Bench"}).encode())()
        expect(status == 201, created)
        ids[prefix] = json.loads(created)["id"]
    calls = {
        "default world": caller(app, "GET", f"/campaigns/{ids['']}"),
        "sandbox": caller(app, "GET", f"/sandboxes/bench/campaigns/{ids['/sandboxes/bench']}"),
    }
    rounds: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(ROUNDS):  # interleaved, so a busy moment of the machine hits both alike
        for label, get in calls.items():
            expect(get()[0] == 200, b"getCampaign did not answer 200")
            rounds[label].append(per_request_us(get, args.requests // ROUNDS))
    figures = {label: statistics.median(values) for label, values in rounds.items()}
    print(f"getCampaign in-process, {args.requests} requests each (median of {ROUNDS} interleaved rounds):")
    print(f"  default world  {figures['default world']:8.1f} us/request")
    print(
        f"  sandbox        {figures['sandbox']:8.1f} us/request  "
        f"({figures['sandbox'] / figures['default world']:.2f}x; target: no more than the default)"
    )
    gc.collect()
    before = rss_bytes()
    for number in range(args.sandboxes):
        status, answer = caller(app, "GET", f"/sandboxes/idle-{number}/campaigns")()
        expect(status == 200, answer)
    gc.collect()
    grown = rss_bytes() - before
    print(
        f"{args.sandboxes} idle sandboxes: {grown / 1e6:.1f} MB resident more "
        f"({grown / args.sandboxes / 1024:.1f} KiB each; target: under 50 MB for 1,000)"
    )


if __name__ == "__main__":
    main()

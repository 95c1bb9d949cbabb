"""Load benchmark: the mock against the stack's ceiling and against its peers, in one run.

    python bench/run.py [--duration 5] [--connections 16] [--threads 4] [--no-granian] [--no-peers] [--check]

Needs wrk (Debian: apt-get install wrk). Starts every server itself on loopback (the mock and
a bare Falcon app on waitress and on granian; WireMock, Prism and Mockoon where installed,
saying how to install each one that is not), seeds campaigns through the admin API, and
prints req/s, p50/p99 latency and errors, each as a ratio; resident memory per stored
campaign; list latency with 1k vs 100k campaigns; the app's in-process cost per request
against a bare Falcon app's; and the targets, met or missed (``--check``: exit 1 on a miss).
Every server it started is stopped by its PID. bench/stores.py prints the same for SQLite
and Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY = "bench"
GRANIAN_THREADS = 1  # the mock's default under granian (server/config.py)
AUTH = {"Authorization": f"Bearer {KEY}"}
URL_LINE = re.compile(r"at (http://127\.0\.0\.1:\d+)")
WARM_UP_SECONDS = 2  # each getCampaign is measured in a second round, after this one


@dataclass
class Load:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for _ in range(20):
        if process.stdout is None:
            break
        line = process.stdout.readline()
        match = URL_LINE.search(line)
        if match:
            return process, match.group(1)
    process.kill()
    raise SystemExit(f"could not start: {' '.join(command)}")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def call(method: str, url: str, body: object = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    headers = {**AUTH, "Content-Type": "application/json"} if data else dict(AUTH)
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=120) as answer:
        raw = answer.read()
    return json.loads(raw) if raw else None


def seed(base: str, count: int, status: str = "active", batch: int = 5000) -> list[str]:
    ids: list[str] = []
    for start_at in range(0, count, batch):
        size = min(batch, count - start_at)
        campaigns = [{"name": f"Bench {start_at + n}", "status": status} for n in range(size)]
        stored = call("POST", f"{base}/__admin/campaigns", {"campaigns": campaigns})
        ids.extend(str(c["id"]) for c in stored["data"])  # type: ignore[index]
    return ids


def _milliseconds(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    name: str, url: str, seconds: int, connections: int, script: str | None = None, env: dict[str, str] | None = None
) -> Load:
    threads = 2
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {KEY}",
    ]
    if script:
        command += ["-s", str(HERE / script)]
    result = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
        env={**os.environ, **(env or {}), "BENCH_THREADS": str(threads)},
    )
    out = result.stdout
    if "99%" not in out or "requests in" not in out:
        raise SystemExit(f"bench: wrk gave no figures for {name} at {url}:\n{out}{result.stderr}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Load(name, rate, p50, p99, errors, total)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads for both servers (default 4)")
    parser.add_argument(
        "--no-granian",
        dest="granian",
        action="store_false",
        help="leave out the granian columns (they need pip install 'campaign-mock[fast]')",
    )
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="leave out WireMock, Prism, Mockoon")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench needs wrk: apt-get install wrk (Debian), then run again", file=sys.stderr)
        return 2
    cli = shutil.which("campaign-mock") or str(Path(sys.executable).parent / "campaign-mock")
    seconds, connections = args.duration, args.connections
    targets: list[tuple[str, bool]] = []

    ceiling_process, ceiling_url = start([sys.executable, str(HERE / "ceiling_app.py"), str(args.threads)])
    try:
        ceiling_load = measured_get("waitress ceiling (bare Falcon)", f"{ceiling_url}/constant", seconds, connections)
    finally:
        stop(ceiling_process)

    mock_process, base = start(
        [cli, "serve", "--port", "0", "--threads", str(args.threads), "--no-request-log", "--api-key", KEY]
    )
    try:
        ids = seed(base, 1000)
        campaign = call("GET", f"{base}/campaigns/{ids[0]}")
        loads = [
            measured_get("getCampaign", f"{base}/campaigns/{ids[0]}", seconds, connections),
            wrk("listCampaigns (status=active, 20)", f"{base}/campaigns?status=active&limit=20", seconds, connections),
            wrk("createCampaign", f"{base}/campaigns", seconds, connections, "create.lua"),
            wrk("pause/resume cycles", base, seconds, connections, "cycle.lua", {"BENCH_IDS": ",".join(ids)}),
        ]
        call("POST", f"{base}/__admin/reset")
        seed(base, 1000)
        list_small = wrk("list, 1k campaigns", f"{base}/campaigns?status=active&limit=20", seconds, connections)
        small_memory = rss_mb(mock_process.pid)
        seed(base, 99_000)
        list_large = wrk("list, 100k campaigns", f"{base}/campaigns?status=active&limit=20", seconds, connections)
        memory = rss_mb(mock_process.pid)
    finally:
        stop(mock_process)

    print_table(f"waitress, {connections} connections", ceiling_load, [*loads, list_small, list_large])
    print_growth(small_memory, memory, list_small, list_large)
    get = loads[0]
    targets.append(
        (
            f"waitress: getCampaign >= 0.7x the waitress ceiling "
            f"({get.requests_per_second / ceiling_load.requests_per_second:.2f}x)",
            get.requests_per_second >= 0.7 * ceiling_load.requests_per_second,
        )
    )
    everything = [*loads, list_small, list_large]
    granian_loads = granian_columns(cli, seconds, connections, get) if args.granian else []
    everything += granian_loads
    if args.peers:
        peer_loads = peer_columns(campaign, seconds, connections)  # type: ignore[arg-type]
        targets += peer_targets(granian_loads, peer_loads)
    targets += in_process_targets()
    targets.append(("zero errors on every mock load", all(load.errors == 0 for load in everything)))
    print_targets("targets", targets)
    return 1 if args.check and not all(met for _, met in targets) else 0


def print_growth(small_memory: float, memory: float, list_small: Load, list_large: Load) -> None:
    """Memory per stored campaign (1k to 100k) and how listing slows as the store grows."""
    growth = list_large.p50_ms / list_small.p50_ms
    per_campaign_kb = (memory - small_memory) * 1024 / 99_000
    print(f"\nresident memory: {small_memory:.0f} MB with 1k campaigns, {memory:.0f} MB with 100k")
    print(f"memory per stored campaign: {per_campaign_kb:.2f} KB")
    small, large = list_small.p50_ms, list_large.p50_ms
    print(f"list p50 with 100k vs 1k campaigns: {large:.2f} ms vs {small:.2f} ms ({growth:.1f}x)")


def measured_get(name: str, url: str, seconds: int, connections: int) -> Load:
    """The second round of a load: the first warms the server (JIT, caches, pools) and is dropped."""
    wrk(f"{name} (warm-up)", url, WARM_UP_SECONDS, connections)
    return wrk(name, url, seconds, connections)


def peer_columns(campaign: dict[str, object], seconds: int, connections: int) -> list[Load]:
    """getCampaign on each installed peer (see peers.py), each after a warm-up round."""
    import tempfile  # noqa: PLC0415

    from peers import Peer, start_mockoon, start_prism, start_wiremock, stop_peer  # noqa: PLC0415 (bench/)

    found: list[Load] = []
    with tempfile.TemporaryDirectory(prefix="campaign-mock-peers-") as folder:
        starters: list[Callable[[], Peer | str]] = [
            lambda: start_wiremock(Path(folder), campaign),
            lambda: start_prism(Path(folder), str(campaign["id"])),
            lambda: start_mockoon(Path(folder), str(campaign["id"])),
        ]
        for starter in starters:
            peer = starter()
            if isinstance(peer, str):
                print(peer, file=sys.stderr)
                continue
            try:
                found.append(measured_get(peer.name, peer.url, seconds, connections))
            finally:
                stop_peer(peer)
    if found:
        reference = found[0]
        print(f"\n{'peers, getCampaign':38} {'req/s':>9} {'x first':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for load in found:
            ratio = load.requests_per_second / reference.requests_per_second
            figures = f"{load.requests_per_second:9.0f} {ratio:10.2f} {load.p50_ms:8.2f} {load.p99_ms:8.2f}"
            print(f"{load.name:38} {figures} {load.errors:7d}")
    return found


def peer_targets(granian_loads: list[Load], peer_loads: list[Load]) -> list[tuple[str, bool]]:
    wiremock = next((load for load in peer_loads if load.name.startswith("WireMock")), None)
    if wiremock is None or len(granian_loads) < 2:
        return [("granian against WireMock: not measured (granian or WireMock missing)", False)]
    get, cycle = granian_loads
    over = get.requests_per_second / wiremock.requests_per_second
    p99 = get.p99_ms / wiremock.p99_ms
    cycles = cycle.requests_per_second / wiremock.requests_per_second
    return [
        (f"granian: getCampaign >= 2x WireMock's req/s ({over:.2f}x)", over >= 2.0),
        (f"granian: getCampaign p99 <= 1/5 of WireMock's ({p99:.2f}x)", p99 <= 0.2),
        (f"granian: pause/resume >= 1.5x WireMock's getCampaign ({cycles:.2f}x)", cycles >= 1.5),
    ]


def in_process_targets() -> list[tuple[str, bool]]:
    """The app's own cost per request (no HTTP server), against a bare Falcon app's."""
    from inprocess import costs  # noqa: PLC0415 (bench/, beside this)

    figures = costs()
    bare = figures["bare Falcon app"]
    print("\nin-process cost per request (WSGI call, no HTTP server; median of rounds):")
    for label, microseconds in figures.items():
        print(f"  {label:34} {microseconds:8.1f} us  ({microseconds / bare:.1f}x bare Falcon)")
    ratio = figures["getCampaign"] / bare
    return [(f"in-process getCampaign <= 3x the bare Falcon app ({ratio:.1f}x)", ratio <= 3.0)]


def granian_columns(cli: str, seconds: int, connections: int, waitress_get: Load) -> list[Load]:
    """The mock and the bare-Falcon ceiling on granian, with the mock's default granian threads:
    getCampaign and pause/resume cycles (empty when granian is not installed)."""
    try:
        import granian  # noqa: F401, PLC0415 (optional: pip install 'campaign-mock[fast]')
    except ImportError:
        print("\ngranian columns skipped: pip install 'campaign-mock[fast]' to add them", file=sys.stderr)
        return []
    threads = str(GRANIAN_THREADS)
    ceiling_process, ceiling_url = start([sys.executable, str(HERE / "ceiling_app.py"), threads, "granian"])
    try:
        ceiling = measured_get("granian ceiling (bare Falcon)", f"{ceiling_url}/constant", seconds, connections)
    finally:
        stop(ceiling_process)
    mock_process, base = start(
        [cli, "serve", "--server", "granian", "--port", "0", "--no-request-log", "--api-key", KEY]
    )
    try:
        ids = seed(base, 1000)
        loads = [
            measured_get("getCampaign on granian", f"{base}/campaigns/{ids[0]}", seconds, connections),
            wrk("pause/resume on granian", base, seconds, connections, "cycle.lua", {"BENCH_IDS": ",".join(ids)}),
        ]
    finally:
        stop(mock_process)
    print_table(f"granian, {threads} thread(s)", ceiling, loads)
    over = loads[0].requests_per_second / waitress_get.requests_per_second
    print(f"\ngetCampaign on granian vs on waitress: {over:.1f}x")
    return loads


def print_table(title: str, ceiling: Load, loads: list[Load]) -> None:
    """One row per load: req/s, its ratio to ``ceiling``, p50, p99 and errors."""
    print(f"\n{title:38} {'req/s':>9} {'x ceiling':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for load in [ceiling, *loads]:
        ratio = load.requests_per_second / ceiling.requests_per_second
        figures = f"{load.requests_per_second:9.0f} {ratio:10.2f} {load.p50_ms:8.2f} {load.p99_ms:8.2f}"
        print(f"{load.name:38} {figures} {load.errors:7d}")


def print_targets(title: str, checks: list[tuple[str, bool]]) -> None:
    print(f"\n{title}:")
    for label, met in checks:
        print(f"  {'met ' if met else 'MISS'}  {label}")


if __name__ == "__main__":
    sys.exit(main())

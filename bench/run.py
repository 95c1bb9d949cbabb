"""Load benchmark: the mock on waitress against the stack's ceiling, in the same run.

    python bench/run.py [--duration 5] [--connections 16] [--threads 4]

Needs wrk (Debian: apt-get install wrk). Starts both servers itself on loopback, seeds
campaigns through the admin API, prints req/s, p50/p99 latency, errors and each figure as
a ratio to the ceiling, resident memory with 100k campaigns, and list latency with 1k vs
100k campaigns; then stops both servers (by their PIDs).
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
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY = "bench"
GRANIAN_THREADS = 1  # the mock's default under granian (server/config.py)
AUTH = {"Authorization": f"Bearer {KEY}"}
URL_LINE = re.compile(r"at (http://127\.0\.0\.1:\d+)")
TARGETS = {"get_ratio": 0.70, "cycle_ratio": 0.50, "p99_ms": 25.0, "list_growth": 2.0, "rss_mb": 300.0}
GRANIAN_TARGETS = {"get_ratio": 0.60, "over_waitress": 3.0, "p99_ms": 10.0}


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
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench needs wrk: apt-get install wrk (Debian), then run again", file=sys.stderr)
        return 2
    cli = shutil.which("campaign-mock") or str(Path(sys.executable).parent / "campaign-mock")
    seconds, connections = args.duration, args.connections

    ceiling_process, ceiling_url = start([sys.executable, str(HERE / "ceiling_app.py"), str(args.threads)])
    try:
        ceiling_load = wrk("ceiling (bare Falcon)", f"{ceiling_url}/constant", seconds, connections)
    finally:
        stop(ceiling_process)

    mock_process, base = start(
        [cli, "serve", "--port", "0", "--threads", str(args.threads), "--no-request-log", "--api-key", KEY]
    )
    try:
        ids = seed(base, 1000)
        loads = [
            wrk("getCampaign", f"{base}/campaigns/{ids[0]}", seconds, connections),
            wrk("listCampaigns (status=active, 20)", f"{base}/campaigns?status=active&limit=20", seconds, connections),
            wrk("createCampaign", f"{base}/campaigns", seconds, connections, "create.lua"),
            wrk("pause/resume cycles", base, seconds, connections, "cycle.lua", {"BENCH_IDS": ",".join(ids)}),
        ]
        call("POST", f"{base}/__admin/reset")
        seed(base, 1000)
        list_small = wrk("list, 1k campaigns", f"{base}/campaigns?status=active&limit=20", seconds, connections)
        seed(base, 99_000)
        list_large = wrk("list, 100k campaigns", f"{base}/campaigns?status=active&limit=20", seconds, connections)
        memory = rss_mb(mock_process.pid)
    finally:
        stop(mock_process)

    print_table(f"load ({connections} connections)", ceiling_load, [*loads, list_small, list_large])
    growth = list_large.p50_ms / list_small.p50_ms
    print(f"\nresident memory with 100k campaigns: {memory:.0f} MB")
    print(
        f"list p50 with 100k vs 1k campaigns: {list_large.p50_ms:.2f} ms vs {list_small.p50_ms:.2f} ms ({growth:.1f}x)"
    )
    get, cycle = loads[0], loads[3]
    ceiling = ceiling_load.requests_per_second
    checks = [
        (
            f"getCampaign >= {TARGETS['get_ratio']:.0%} of the ceiling",
            get.requests_per_second / ceiling >= TARGETS["get_ratio"],
        ),
        (
            f"transitions >= {TARGETS['cycle_ratio']:.0%} of the ceiling",
            cycle.requests_per_second / ceiling >= TARGETS["cycle_ratio"],
        ),
        (
            f"p99 < {TARGETS['p99_ms']:.0f} ms on every mock load",
            all(load.p99_ms < TARGETS["p99_ms"] for load in loads),
        ),
        (f"list with 100k within {TARGETS['list_growth']:.0f}x of 1k", growth <= TARGETS["list_growth"]),
        (f"under {TARGETS['rss_mb']:.0f} MB with 100k campaigns", memory < TARGETS["rss_mb"]),
        ("zero errors", all(load.errors == 0 for load in [*loads, list_small, list_large])),
    ]
    print_targets("targets", checks)
    if args.granian:
        granian_columns(cli, seconds, connections, get)
    return 0


def granian_columns(cli: str, seconds: int, connections: int, waitress_get: Load) -> None:
    """The mock and the bare-Falcon ceiling on granian, with the mock's default granian threads."""
    try:
        import granian  # noqa: F401, PLC0415 (optional: pip install 'campaign-mock[fast]')
    except ImportError:
        print("\ngranian columns skipped: pip install 'campaign-mock[fast]' to add them", file=sys.stderr)
        return
    threads = str(GRANIAN_THREADS)
    ceiling_process, ceiling_url = start([sys.executable, str(HERE / "ceiling_app.py"), threads, "granian"])
    try:
        ceiling = wrk("granian ceiling (bare Falcon)", f"{ceiling_url}/constant", seconds, connections)
    finally:
        stop(ceiling_process)
    mock_process, base = start(
        [cli, "serve", "--server", "granian", "--port", "0", "--no-request-log", "--api-key", KEY]
    )
    try:
        ids = seed(base, 1000)
        loads = [
            wrk("getCampaign on granian", f"{base}/campaigns/{ids[0]}", seconds, connections),
            wrk("pause/resume on granian", base, seconds, connections, "cycle.lua", {"BENCH_IDS": ",".join(ids)}),
        ]
    finally:
        stop(mock_process)
    print_table(f"granian, {threads} thread(s)", ceiling, loads)
    get = loads[0]
    over = get.requests_per_second / waitress_get.requests_per_second
    print(f"\ngetCampaign on granian vs on waitress: {over:.1f}x")
    checks = [
        (
            f"getCampaign on granian >= {GRANIAN_TARGETS['get_ratio']:.0%} of the granian ceiling",
            get.requests_per_second / ceiling.requests_per_second >= GRANIAN_TARGETS["get_ratio"],
        ),
        (
            f"getCampaign on granian >= {GRANIAN_TARGETS['over_waitress']:.0f}x on waitress",
            over >= GRANIAN_TARGETS["over_waitress"],
        ),
        (
            f"p99 < {GRANIAN_TARGETS['p99_ms']:.0f} ms on granian",
            all(load.p99_ms < GRANIAN_TARGETS["p99_ms"] for load in loads),
        ),
        ("zero errors on granian", all(load.errors == 0 for load in loads)),
    ]
    print_targets("granian targets", checks)


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

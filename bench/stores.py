"""What each store costs: the mock on granian with the memory, SQLite and Redis stores (Redis
with 1 and 2 workers), in the same run, plus the in-process cost each store adds and where
it goes.

    .venv/bin/python bench/stores.py [--duration 5] [--connections 16] [--requests 3000]

Needs wrk and redis-server (Debian: apt-get install wrk redis-server) and granian
(pip install 'campaign-mock[fast]'). Starts its own redis-server on a free loopback port and
each mock itself, and stops them by their PIDs. For every load it prints req/s, p99, errors,
the CPU microseconds per request spent in the mock's processes (the figure that says how a
store scales on a machine with more cores than this one) and, for Redis, the CPU per request
inside redis-server, the Redis commands per request (those its scripts call included) and the
scripts per request (each one round trip; the journal's are sent in batches). The store issue's
targets are
printed beside the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run import KEY, Load, seed, start, stop, wrk
from sandboxes import KEY as IN_PROCESS_KEY
from sandboxes import caller

from campaign_mock.server.run.assembly import assemble
from campaign_mock.server.run.config import ServeSettings

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
SQLITE_READS_OVER_MEMORY = 0.8
REDIS_TWO_WORKERS_OVER_ONE = 1.3
ROUNDS = 5
SCRIPT_RUNS = {"cmdstat_evalsha", "cmdstat_eval"}  # one round trip each (the store sends little else)


@dataclass
class Measured:
    """One load against one store: wrk's figures and the CPU the processes spent on it."""

    store: str
    load: Load
    mock_cpu_us: float
    redis_cpu_us: float | None
    redis_commands: float | None
    redis_scripts: float | None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it (granian's workers are children of the serve process)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.extend(children)
        frontier.extend(children)
    return tree


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS_PER_SECOND


class RedisServer:
    """A throwaway redis-server with no persistence on a free loopback port."""

    def __init__(self, folder: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--dir", folder, "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis  # noqa: PLC0415 (redis-py: pip install 'campaign-mock[redis]')

        self.client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start within 10 s") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def counters(self) -> tuple[float, int, int]:
        """CPU seconds redis-server has used, the commands it has run (those scripts call
        included) and the scripts it has run."""
        cpu, commands = self.client.info("cpu"), self.client.info("commandstats")
        total = sum(int(stats["calls"]) for stats in commands.values())
        scripts = sum(int(stats["calls"]) for name, stats in commands.items() if name in SCRIPT_RUNS)
        return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]), total, scripts

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def measured_load(
    label: str, name: str, url: str, args: argparse.Namespace, pid: int, redis: RedisServer | None, **wrk_args: Any
) -> Measured:
    tree = process_tree(pid)
    mock_before = cpu_seconds(tree)
    redis_before = redis.counters() if redis else None
    load = wrk(name, url, args.duration, args.connections, **wrk_args)
    mock_cpu = (cpu_seconds(tree) - mock_before) / max(load.requests, 1) * 1e6
    if redis is None or redis_before is None:
        return Measured(label, load, mock_cpu, None, None, None)
    redis_cpu, commands, scripts = redis.counters()
    requests = max(load.requests, 1)
    return Measured(
        label,
        load,
        mock_cpu,
        (redis_cpu - redis_before[0]) / requests * 1e6,
        (commands - redis_before[1]) / requests,
        (scripts - redis_before[2]) / requests,
    )


def over_http(
    cli: str, label: str, store: str, workers: int, args: argparse.Namespace, redis: RedisServer | None
) -> list[Measured]:
    command = [cli, "serve", "--server", "granian", "--port", "0", "--no-request-log", "--api-key", KEY]
    command += ["--store", store, "--workers", str(workers)]
    if store.startswith("redis"):
        command += ["--store-namespace", f"bench-{uuid.uuid4().hex[:8]}"]
    process, base = start(command)
    try:
        ids = seed(base, 1000)
        wrk("warm-up", f"{base}/campaigns/{ids[0]}", 1, args.connections)
        return [
            measured_load(label, "getCampaign", f"{base}/campaigns/{ids[0]}", args, process.pid, redis),
            measured_load(
                label,
                "pause/resume",
                base,
                args,
                process.pid,
                redis,
                script="cycle.lua",
                env={"BENCH_IDS": ",".join(ids)},
            ),
        ]
    finally:
        stop(process)


def in_process(store: str, requests: int, profile: bool) -> dict[str, float]:
    """The app's own cost per request with ``store``: getCampaign, and one pause or resume."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    assembled = assemble(
        ServeSettings(
            store=store, store_namespace=namespace, api_keys=[IN_PROCESS_KEY], log_requests=False, sandboxes="off"
        )
    )
    try:
        seeding = json.dumps({"campaigns": [{"name": f"Bench {n}", "status": "active"} for n in range(100)]})
        status, created = caller(assembled.app, "POST", "/__admin/campaigns", seeding.encode())()
        if status != 201:
            raise SystemExit(f"bench: seeding answered {status}: {created[:200]!r}")
        campaigns = [stored["id"] for stored in json.loads(created)["data"]]
        get = caller(assembled.app, "GET", f"/campaigns/{campaigns[0]}")
        # pause every campaign, then resume every one, and so on: no history outgrows --max-events
        app = assembled.app
        moves = [caller(app, "POST", f"/campaigns/{c}/{verb}") for verb in ("pause", "resume") for c in campaigns]

        def cycle_step(step: list[int] = [0]) -> tuple[int, bytes]:  # noqa: B006 (a counter kept between calls)
            step[0] += 1
            return moves[(step[0] - 1) % len(moves)]()

        figures: dict[str, list[float]] = {"getCampaign": [], "pause or resume": []}
        for _ in range(ROUNDS):
            for label, request in (("getCampaign", get), ("pause or resume", cycle_step)):
                started = time.perf_counter()
                for _ in range(requests // ROUNDS):
                    answered, body = request()
                    if answered not in (200, 201):
                        raise SystemExit(f"bench: {label} answered {answered}: {body[:200]!r}")
                figures[label].append((time.perf_counter() - started) / (requests // ROUNDS) * 1e6)
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(1000):
                get()
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(8)
            rows = [line for line in text.getvalue().splitlines() if line.strip()][-9:]
            print(f"\ncProfile, 1000 getCampaign on {store.partition(':')[0]}, by own time (top 8):")
            print("\n".join(f"  {row}" for row in rows))
        return {label: statistics.median(values) for label, values in figures.items()}
    finally:
        assembled.store.backend.close()


def print_loads(rows: list[Measured]) -> None:
    memory = {row.load.name: row.load.requests_per_second for row in rows if row.store == "memory"}
    head = f"{'store':18} {'load':14} {'req/s':>8} {'x memory':>9} {'p99 ms':>7} {'errors':>6}"
    print(f"\n{head} {'mock CPU us/req':>16} {'redis CPU us/req':>17} {'redis cmds/req':>15} {'scripts/req':>11}")
    for row in rows:
        ratio = row.load.requests_per_second / memory[row.load.name]
        redis_cpu = f"{row.redis_cpu_us:17.0f}" if row.redis_cpu_us is not None else f"{'-':>17}"
        commands = f"{row.redis_commands:15.2f}" if row.redis_commands is not None else f"{'-':>15}"
        commands += f" {row.redis_scripts:11.2f}" if row.redis_scripts is not None else f" {'-':>11}"
        figures = f"{row.load.requests_per_second:8.0f} {ratio:9.2f} {row.load.p99_ms:7.2f} {row.load.errors:6d}"
        print(f"{row.store:18} {row.load.name:14} {figures} {row.mock_cpu_us:16.0f} {redis_cpu} {commands}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--requests", type=int, default=3000, help="in-process requests per figure (default 3000)")
    args = parser.parse_args()
    missing = [tool for tool in ("wrk", "redis-server") if shutil.which(tool) is None]
    if missing:
        print(f"bench needs {' and '.join(missing)}: apt-get install {' '.join(missing)}", file=sys.stderr)
        return 2
    try:
        import granian  # noqa: F401, PLC0415
        import redis  # noqa: F401, PLC0415
    except ImportError as missing_module:
        print(f"bench needs {missing_module.name}: pip install 'campaign-mock[fast,redis]'", file=sys.stderr)
        return 2
    cli = shutil.which("campaign-mock") or str(Path(sys.executable).parent / "campaign-mock")
    with tempfile.TemporaryDirectory(prefix="campaign-mock-bench-") as folder:
        redis_server = RedisServer(folder)
        try:
            sqlite = f"sqlite:{folder}/bench.sqlite"
            rows = [
                *over_http(cli, "memory", "memory:", 1, args, None),
                *over_http(cli, "sqlite", sqlite, 1, args, None),
                *over_http(cli, "redis, 1 worker", redis_server.url, 1, args, redis_server),
                *over_http(cli, "redis, 2 workers", redis_server.url, 2, args, redis_server),
            ]
            costs = {
                "memory": in_process("memory:", args.requests, profile=False),
                "sqlite": in_process(f"sqlite:{folder}/inprocess.sqlite", args.requests, profile=False),
                "redis": in_process(redis_server.url, args.requests, profile=True),
            }
        finally:
            redis_server.stop()
    print(f"\ngranian, wrk -t2 -c{args.connections} -d{args.duration}s, after a 1 s warm-up, one run:")
    print_loads(rows)
    print(f"\nin-process cost per request (median of {ROUNDS} rounds, {args.requests} requests each):")
    for store, figures in costs.items():
        added = {label: value - costs["memory"][label] for label, value in figures.items()}
        shown = ", ".join(f"{label} {value:.0f} us (+{added[label]:.0f})" for label, value in figures.items())
        print(f"  {store:7} {shown}")
    by_name = {(row.store, row.load.name): row.load.requests_per_second for row in rows}
    sqlite_ratio = by_name[("sqlite", "getCampaign")] / by_name[("memory", "getCampaign")]
    workers_ratio = by_name[("redis, 2 workers", "getCampaign")] / by_name[("redis, 1 worker", "getCampaign")]
    print("\ntargets:")
    for label, value, goal in (
        ("SQLite getCampaign / memory", sqlite_ratio, SQLITE_READS_OVER_MEMORY),
        ("Redis 2 workers / 1 worker, getCampaign", workers_ratio, REDIS_TWO_WORKERS_OVER_ONE),
    ):
        print(f"  {'met ' if value >= goal else 'MISS'}  {label}: {value:.2f}x (target >= {goal}x)")
    print("  zero errors:", "met" if all(row.load.errors == 0 for row in rows) else "MISS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

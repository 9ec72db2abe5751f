"""The scale-out curve (issue 18): bookings/s and slots requests/s with 1, 2 and 3 API processes
against one PostgreSQL on this machine, with the CPU each process used.

    .venv/bin/python -m bench.scale_out [--processes 1,2,3] [--requests 1500] [--seconds 8] [--repeat 2]

For each process count (`uvicorn --workers N`, tests/live.py, rate limits off as in bench.bookings):
  - distinct-slot bookings as bench.bookings makes them (a fresh database, 20 agents, the cheap
    client bench.load_client over 32 connections): bookings/s and the API's CPU ms per booking;
  - `GET …/slots` of the bench agent (bench.http_app.seed_database: 1,000 bookings over the horizon,
    on PostgreSQL here) cycling its 42 dates, with wrk over 32 connections for --seconds, once with
    the answer cache as shipped (warm) and once with it off (every request a miss): requests/s.
Each row shows the CPU seconds per second (cores) the API processes used, as a total and per
process, and the load average. The process counts are interleaved over --repeat rounds; medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bench.booking_cpu import api_processes, cpu_seconds
from bench.bookings import API_ENV, CONNECTIONS, fire, fire_fast, planned_bookings
from bench.http_app import seed_database
from bench.http_slots import Target, slots_paths, wrk_rate
from tests.live import running_api
from tests.pg import ThrowawayPostgres

# (rate, API cores used in total, cores per process)
Measured = tuple[float, float, list[float]]


def _is_helper(pid: int) -> bool:
    """multiprocessing's resource tracker, which uvicorn's master also starts: not an API process."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True


def _measure(base_url: str, drive: Callable[[], tuple[float, float]]) -> Measured:
    """Run `drive` (→ (operations, seconds)) against the server at base_url; its rate and the CPU
    its worker processes used meanwhile."""
    pids = api_processes(urlsplit(base_url).port or 0)
    workers = [pid for pid in pids[1:] if not _is_helper(pid)] or pids
    before = {pid: cpu_seconds([pid]) for pid in pids}
    operations, seconds = drive()
    used = {pid: cpu_seconds([pid]) - before[pid] for pid in pids}
    return operations / seconds, sum(used.values()) / seconds, [used[pid] / seconds for pid in workers]


def bookings(url: str, *, processes: int, requests: int) -> Measured:
    warm_up, planned = planned_bookings(url, requests=requests, agents=20)
    with running_api(url, workers=processes, extra_env=API_ENV) as base_url:
        fire(base_url, warm_up, 8)

        def drive() -> tuple[float, float]:
            statuses, seconds = fire_fast(base_url, planned, CONNECTIONS)
            return statuses[201], seconds

        return _measure(base_url, drive)


def slots(url: str, *, processes: int, seconds: float, cache: bool, workdir: Path) -> Measured:
    now = datetime.now(UTC)
    link, demo_id = seed_database(url, now=now)
    env = {**API_ENV, **({} if cache else {"MEETINGS_AVAILABILITY_CACHE_SECONDS": "0"})}
    with running_api(url, workers=processes, extra_env=env) as base_url:
        target = Target("slots", base_url, slots_paths(link, demo_id, now))
        wrk_rate(target, connections=CONNECTIONS, seconds=1, workdir=workdir)  # warm every process

        def drive() -> tuple[float, float]:
            started = time.perf_counter()
            rate = wrk_rate(target, connections=CONNECTIONS, seconds=seconds, workdir=workdir)
            elapsed = time.perf_counter() - started
            return rate * elapsed, elapsed

        return _measure(base_url, drive)


def _row(name: str, results: list[Measured], unit: str) -> str:
    rate = statistics.median(r[0] for r in results)
    cores = statistics.median(r[1] for r in results)
    per_process = [statistics.median(values) for values in zip(*(r[2] for r in results), strict=False)]
    each = ", ".join(f"{c:.2f}" for c in per_process)
    return f"| {name} | {rate:.0f} {unit} | {cores:.2f} ({each}) |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2,3")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.processes.split(",")]
    results: dict[tuple[str, int], list[Measured]] = {}
    loads = [os.getloadavg()[0]]
    cluster = ThrowawayPostgres()
    cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="meetings-scale-out-") as folder:
            for _ in range(args.repeat):
                for n in counts:
                    new_db = cluster.create_database
                    results.setdefault(("bookings", n), []).append(
                        bookings(cluster.url(new_db()), processes=n, requests=args.requests)
                    )
                    for kind, cache in (("slots warm", True), ("slots misses", False)):
                        measured = slots(
                            cluster.url(new_db()), processes=n, seconds=args.seconds, cache=cache, workdir=Path(folder)
                        )
                        results.setdefault((kind, n), []).append(measured)
                    loads.append(os.getloadavg()[0])
    finally:
        cluster.stop()
    print(f"scale-out against one PostgreSQL: {os.cpu_count()} CPUs, load average {min(loads):.2f}–{max(loads):.2f}")
    print("| what, API processes | rate (median) | API CPU, cores (per process) |\n|---|---|---|")
    for kind, unit in (("bookings", "bookings/s"), ("slots warm", "req/s"), ("slots misses", "req/s")):
        for n in counts:
            print(_row(f"{kind}, {n}", results[(kind, n)], unit))
    return 0


if __name__ == "__main__":
    sys.exit(main())

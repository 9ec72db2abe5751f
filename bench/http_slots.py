"""Requests per second of `GET /api/v1/links/{link}/slots` against a bare FastAPI endpoint (SPEC §13).

    .venv/bin/python -m bench.http_slots [--connections 16] [--seconds 10] [--repeats 5]

Starts, on 127.0.0.1 and each as one uvicorn process with the same flags:
  - the real app (`widget_api.app:app_factory`) on a temporary SQLite database seeded with one agent
    and 1,000 confirmed bookings over the 60-day horizon (bench.http_app.seed_database), twice:
    rate limits on as shipped (allowance raised so no request is refused, every request still
    counted in the database) and rate limits off;
  - the bare app (bench.http_app:bare_app), with a sync and an async endpoint.
Then drives each with a fixed number of concurrent connections for a fixed time, the targets
interleaved in every repeat so drift in machine load hits them alike, and prints the median
requests/s and the ratios. The client is `wrk` when installed, else httpx on a thread pool.
All servers are stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.data import HORIZON_DAYS, ZONE, working_days
from bench.http_app import seed_database

UVICORN_FLAGS = ["--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"]
START_TIMEOUT_SECONDS = 60


@dataclass
class Target:
    name: str
    base_url: str
    paths: list[str]
    rates: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def uvicorn_server(factory: str, *, env: dict[str, str], log: Path, ready_path: str) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port), *UVICORN_FLAGS]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited with {process.returncode}; see {log}")
            try:
                if httpx.get(base_url + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} did not answer within {START_TIMEOUT_SECONDS}s; see {log}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wrk_rate(target: Target, *, connections: int, seconds: float, workdir: Path) -> float:
    script = workdir / f"{abs(hash(target.name))}.lua"
    paths = ", ".join(f'"{p}"' for p in target.paths)
    script.write_text(
        f"local paths = {{{paths}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
    )
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", str(script), target.base_url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    errors = re.search(r"Socket errors: (.*)", result.stdout)
    if bad or errors:
        raise RuntimeError(f"{target.name}: not every request succeeded:\n{result.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if not found:
        raise RuntimeError(f"cannot read wrk output:\n{result.stdout}")
    return float(found.group(1))


def httpx_rate(target: Target, *, connections: int, seconds: float, workdir: Path) -> float:
    done = [0] * connections
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    def worker(slot: int) -> None:
        with httpx.Client(base_url=target.base_url, timeout=30) as client:
            i = slot
            while time.monotonic() < deadline:
                response = client.get(target.paths[i % len(target.paths)])
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                done[slot] += 1
                i += connections

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    if failures:
        raise RuntimeError(f"{target.name}: {failures[0]}")
    return sum(done) / (time.monotonic() - started)


def slots_paths(link: str, meeting_type_id: int, now: datetime) -> list[str]:
    # Every working day after the minimum notice, through the horizon.
    first = (now + timedelta(days=1)).astimezone(ZONE).date()
    dates = [d for d in working_days(first, HORIZON_DAYS - 2)]
    return [
        f"/api/v1/links/{link}/slots?meeting_type_id={meeting_type_id}&date={d.isoformat()}&tz=Europe%2FWarsaw"
        for d in dates
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each run (default 10)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per target; medians reported (default 5)")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    args = parser.parse_args(argv)
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    drive = wrk_rate if client == "wrk" else httpx_rate

    with tempfile.TemporaryDirectory(prefix="meetings-bench-") as tmp:
        workdir = Path(tmp)
        now = datetime.now(UTC)
        database_url = f"sqlite:///{workdir / 'bench.db'}"
        link, demo_id = seed_database(database_url, now=now)
        base_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MEETINGS_", "DATABASE_URL"))},
            "DATABASE_URL": database_url,
            "MEETINGS_ENV": "development",
            "MEETINGS_BASE_URL": "http://127.0.0.1",
        }
        limited_env = {**base_env, "MEETINGS_RATE_LIMIT_ENABLED": "true",
                       "MEETINGS_RATE_LIMIT_READS_PER_MINUTE": "1000000000"}
        unlimited_env = {**base_env, "MEETINGS_RATE_LIMIT_ENABLED": "false"}
        paths = slots_paths(link, demo_id, now)

        with (
            uvicorn_server("widget_api.app:app_factory", env=limited_env, log=workdir / "limited.log",
                           ready_path="/healthz") as limited_url,
            uvicorn_server("widget_api.app:app_factory", env=unlimited_env, log=workdir / "unlimited.log",
                           ready_path="/healthz") as unlimited_url,
            uvicorn_server("bench.http_app:bare_app", env=base_env, log=workdir / "bare.log",
                           ready_path="/bare") as bare_url,
        ):
            targets = [
                Target("GET …/slots, rate limits on (as shipped)", limited_url, paths),
                Target("GET …/slots, rate limits off", unlimited_url, paths),
                Target("bare FastAPI, sync def endpoint", bare_url, ["/bare"]),
                Target("bare FastAPI, async def endpoint", bare_url, ["/bare-async"]),
            ]
            sample = httpx.get(unlimited_url + paths[0], timeout=10)
            sample.raise_for_status()
            slot_counts = [len(httpx.get(unlimited_url + p, timeout=10).json()["slots"]) for p in paths]
            print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, client {client}, "
                  f"{args.connections} connections, {args.seconds:g}s per run, {args.repeats} repeats")
            print(f"  {len(paths)} dates cycled; free Demo slots per date: mean "
                  f"{statistics.mean(slot_counts):.2f}, min {min(slot_counts)}, max {max(slot_counts)}")
            print(f"  sample: {paths[0].split('?')[1]} -> {len(sample.content)} bytes")
            print("  load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
            for target in targets:  # warm-up: imports, connection pools, first queries
                drive(target, connections=args.connections, seconds=2, workdir=workdir)
            for repeat in range(args.repeats):
                for target in targets:
                    target.rates.append(drive(target, connections=args.connections, seconds=args.seconds,
                                              workdir=workdir))
                print(f"  repeat {repeat + 1}: " + ", ".join(f"{t.rates[-1]:.1f}" for t in targets), flush=True)
            print("  load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    medians = {t.name: statistics.median(t.rates) for t in targets}
    best_bare = max(medians[targets[2].name], medians[targets[3].name])
    print()
    print("| target | requests/s per run | median requests/s | vs sync bare | vs async bare |")
    print("|---|---|---|---|---|")
    for t in targets:
        runs = ", ".join(f"{r:.1f}" for r in t.rates)
        print(f"| {t.name} | {runs} | {medians[t.name]:.1f} | "
              f"{100 * medians[t.name] / medians[targets[2].name]:.1f} % | "
              f"{100 * medians[t.name] / medians[targets[3].name]:.1f} % |")
    shipped = medians[targets[0].name] / best_bare
    print(f"\nBudget (SPEC §13): slots ≥ 50 % of the bare endpoint. As shipped vs the faster bare endpoint: "
          f"{100 * shipped:.1f} % -> {'within' if shipped >= 0.5 else 'MISSED'}")
    return 0 if shipped >= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())

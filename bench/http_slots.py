"""Requests per second of `GET /api/v1/links/{link}/slots` against a bare FastAPI endpoint (SPEC §13).

    .venv/bin/python -m bench.http_slots [--connections 16] [--seconds 10] [--repeats 5] [--before REF]

Starts, on 127.0.0.1 and each as one uvicorn process with the same flags:
  - the real app (`widget_api.app:app_factory`) on a temporary SQLite database seeded with one agent
    and 1,000 confirmed bookings over the 60-day horizon (bench.http_app.seed_database), twice, both
    with rate limits on as shipped (allowance raised so no request is refused; every read is still
    counted, in batches): answer cache as shipped (warm: the 42 dates are recomputed once per cache
    lifetime, every other request is a hit) and answer cache off (MEETINGS_AVAILABILITY_CACHE_SECONDS=0:
    every request validates, misses and computes the answer);
  - with --before REF, the app as it was at git REF (`git archive` into a temporary directory, served
    from there with the same virtual environment), rate limits on: the "before" row under the same load;
  - the bare app (bench.http_app:bare_app), with a sync and an async endpoint.
Then drives each with a fixed number of concurrent connections for a fixed time, the targets
interleaved in every repeat so drift in machine load hits them alike, and prints the median
requests/s and the ratios. The client is `wrk` when installed (with a 10 s request timeout, so a
slow answer on a loaded machine counts as slow, not as a socket error), else httpx on a thread pool.
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
from contextlib import ExitStack, contextmanager
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
def uvicorn_server(
    factory: str, *, env: dict[str, str], log: Path, ready_path: str, cwd: Path | None = None
) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port), *UVICORN_FLAGS]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=cwd)
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
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script), target.base_url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
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
    parser.add_argument("--before", metavar="REF", help="also serve the app as it was at this git ref")
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
        limited_env = {
            **base_env,
            "MEETINGS_RATE_LIMIT_ENABLED": "true",
            "MEETINGS_RATE_LIMIT_READS_PER_MINUTE": "1000000000",
        }
        missing_env = {**limited_env, "MEETINGS_AVAILABILITY_CACHE_SECONDS": "0"}
        paths = slots_paths(link, demo_id, now)

        with ExitStack() as servers:

            def serve(factory: str, env: dict[str, str], name: str, ready: str, cwd: Path | None = None) -> str:
                return servers.enter_context(
                    uvicorn_server(factory, env=env, log=workdir / f"{name}.log", ready_path=ready, cwd=cwd)
                )

            targets: list[Target] = []
            if args.before:
                tree = workdir / "before"
                tree.mkdir()
                archive = subprocess.run(
                    ["git", "archive", args.before, "shared", "widget_api"], capture_output=True, check=True
                ).stdout
                subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
                # Served from the tree (cwd and PYTHONPATH come before the editable install).
                before_env = {**limited_env, "PYTHONPATH": str(tree)}
                before_url = serve("widget_api.app:app_factory", before_env, "before", "/healthz", cwd=tree)
                targets.append(Target(f"before ({args.before}): GET …/slots, rate limits on", before_url, paths))
            shipped_url = serve("widget_api.app:app_factory", limited_env, "shipped", "/healthz")
            missing_url = serve("widget_api.app:app_factory", missing_env, "missing", "/healthz")
            bare_url = serve("bench.http_app:bare_app", base_env, "bare", "/bare")
            shipped = Target("GET …/slots, rate limits on, answer cache warm (as shipped)", shipped_url, paths)
            missing = Target("GET …/slots, rate limits on, answer cache off (every request a miss)", missing_url, paths)
            sync_bare = Target("bare FastAPI, sync def endpoint", bare_url, ["/bare"])
            async_bare = Target("bare FastAPI, async def endpoint", bare_url, ["/bare-async"])
            targets += [shipped, missing, sync_bare, async_bare]
            sample = httpx.get(missing_url + paths[0], timeout=10)
            sample.raise_for_status()
            answers = {p: httpx.get(missing_url + p, timeout=10).content for p in paths}
            for target in targets[:-2]:  # every app gives the same answers
                for p in paths[:5]:
                    if httpx.get(target.base_url + p, timeout=10).content != answers[p]:
                        raise RuntimeError(f"{target.name}: another answer for {p}")
            slot_counts = [len(httpx.get(missing_url + p, timeout=10).json()["slots"]) for p in paths]
            print(
                f"Python {platform.python_version()}, {os.cpu_count()} CPUs, client {client}, "
                f"{args.connections} connections, {args.seconds:g}s per run, {args.repeats} repeats"
            )
            print(
                f"  {len(paths)} dates cycled; free Demo slots per date: mean "
                f"{statistics.mean(slot_counts):.2f}, min {min(slot_counts)}, max {max(slot_counts)}"
            )
            print(f"  sample: {paths[0].split('?')[1]} -> {len(sample.content)} bytes")
            print("  load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
            for target in targets:  # warm-up: imports, connection pools, first queries
                drive(target, connections=args.connections, seconds=2, workdir=workdir)
            for repeat in range(args.repeats):
                for target in targets:
                    target.rates.append(
                        drive(target, connections=args.connections, seconds=args.seconds, workdir=workdir)
                    )
                print(f"  repeat {repeat + 1}: " + ", ".join(f"{t.rates[-1]:.1f}" for t in targets), flush=True)
            print("  load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    medians = {t.name: statistics.median(t.rates) for t in targets}
    best_bare = max(medians[sync_bare.name], medians[async_bare.name])
    print()
    print("| target | requests/s per run | median requests/s | vs sync bare | vs async bare |")
    print("|---|---|---|---|---|")
    for t in targets:
        runs = ", ".join(f"{r:.1f}" for r in t.rates)
        print(
            f"| {t.name} | {runs} | {medians[t.name]:.1f} | "
            f"{100 * medians[t.name] / medians[sync_bare.name]:.1f} % | "
            f"{100 * medians[t.name] / medians[async_bare.name]:.1f} % |"
        )
    ratio = medians[shipped.name] / best_bare
    miss_ratio = medians[missing.name] / best_bare
    print(
        f"\nBudget (SPEC §13): slots ≥ 50 % of the bare endpoint. As shipped vs the faster bare endpoint: "
        f"{100 * ratio:.1f} % -> {'within' if ratio >= 0.5 else 'MISSED'}; "
        f"every request a cache miss: {100 * miss_ratio:.1f} %"
    )
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Server CPU per booking under the distinct-slot load of bench.bookings (Linux: reads /proc).

    .venv/bin/python -m bench.booking_cpu [--workers 3] [--requests 1500] [--agents 20] [--repeat 3]

The same load as bench.bookings (a fresh PostgreSQL database per run, `uvicorn --workers N`,
--requests bookings over --agents agents from 32 client threads). Besides the rate it reports the
CPU time (user + system) the API processes spent during the timed part, divided by the bookings
created. On a shared machine the rate moves with whatever else runs; the CPU per booking much less,
so it is the figure to compare code changes with. PostgreSQL's and the client's CPU are not in it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.bookings import API_ENV, CONNECTIONS, fire, fire_fast, planned_bookings
from tests.live import running_api
from tests.pg import ThrowawayPostgres

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields after "pid (comm)": state, ppid, …


def api_processes(port: int) -> list[int]:
    """The uvicorn master listening on `port` and its worker processes."""
    pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    master = None
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"uvicorn" in command and str(port).encode() in command:
            master = pid
            break
    if master is None:
        raise RuntimeError(f"no uvicorn process for port {port}")
    children = [pid for pid in pids if (fields := _stat(pid)) is not None and int(fields[1]) == master]
    return [master, *children]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def run(url: str, *, workers: int, requests: int, agents: int) -> tuple[float, float, float]:
    """(bookings/s, API CPU ms per booking, client CPU ms per booking)."""
    warm_up, planned = planned_bookings(url, requests=requests, agents=agents)
    with running_api(url, workers=workers, extra_env=API_ENV) as base_url:
        fire(base_url, warm_up, 8)
        pids = api_processes(urlsplit(base_url).port or 0)
        before, client_before = cpu_seconds(pids), time.process_time()
        statuses, seconds = fire_fast(base_url, planned, CONNECTIONS)
        used, client = cpu_seconds(pids) - before, time.process_time() - client_before
    created = max(statuses[201], 1)
    return statuses[201] / seconds, 1000 * used / created, 1000 * client / created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    cluster = ThrowawayPostgres()
    cluster.start()
    rates, cpus, clients = [], [], []
    try:
        for _ in range(args.repeat):
            rate, cpu, client = run(
                cluster.url(cluster.create_database()), workers=args.workers, requests=args.requests, agents=args.agents
            )
            rates.append(rate)
            cpus.append(cpu)
            clients.append(client)
    finally:
        cluster.stop()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    runs = ", ".join(f"{r:.0f}" for r in rates)
    print(f"distinct-slot bookings/s: median {statistics.median(rates):.0f} (runs: {runs})")
    print(
        f"API server CPU per booking (user+sys of the {args.workers} workers and the master): median "
        f"{statistics.median(cpus):.2f} ms (runs: {', '.join(f'{c:.2f}' for c in cpus)})"
    )
    print(f"client CPU per booking (bench.load_client): median {statistics.median(clients):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bookings through the real HTTP API (SPEC §13): distinct-slot bookings per second on PostgreSQL
(budget ≥ 300/s) and 200 concurrent bookings of one slot on SQLite and PostgreSQL (exactly 1 created).

    .venv/bin/python -m bench.bookings [--workers 3] [--requests 1500] [--agents 20] [--repeat 3]

Each run gets a fresh migrated database (a throwaway PostgreSQL cluster on a loopback port from
tests/pg.py, or a SQLite file) and `uvicorn --workers N` on 127.0.0.1 (tests/live.py). Per-client
rate limits are off (they would refuse a benchmark's single client address, by design). Distinct
slots: --requests bookings dealt round-robin over --agents agents (bookings of one agent serialise
on its row lock, as they must), each a different 30-minute slot, over 32 keep-alive connections of
bench.load_client (one asyncio loop: a cheap client, so the API gets the CPU); the rate is created
bookings / wall time. The one-slot runs use httpx on 64 threads. After each distinct-slot run the
same booking transaction is replayed by pgbench on a fresh database of the same cluster
(bench.pgbench_limit): the limit row, and the API's rate as a share of it. The median of --repeat runs is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.load_client import post_all
from bench.pgbench_limit import replay_tps
from shared.db import build_engine, build_sessionmaker
from shared.migrate import upgrade_to_head
from shared.settings import Settings
from tests.factories import committed_agent
from tests.live import running_api
from tests.pg import ThrowawayPostgres

ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ZONE = ZoneInfo("Europe/Warsaw")
API_ENV = {"MEETINGS_RATE_LIMIT_ENABLED": "false"}
BUDGET_PER_SECOND = 300
CONNECTIONS = 32  # concurrent client connections of the throughput runs


@dataclass(frozen=True)
class Target:
    link: str
    meeting_type_id: int


# (booking link, request body) of one booking to send.
Request = tuple[str, dict[str, object]]


def body(target: Target, start: datetime, n: int) -> dict[str, object]:
    return {
        "meeting_type_id": target.meeting_type_id,
        "start": start.isoformat(),
        "timezone": ZONE.key,
        "first_name": f"Bench{n}",
        "last_name": "Booker",
        "company_name": "Bench Ltd",
        "email": f"bench{n}@example.com",
        "description": "benchmark booking",
    }


def seed(database_url: str, agents: int) -> list[Target]:
    upgrade_to_head(database_url)
    engine = build_engine(Settings(environment="development", database_url=database_url))
    try:
        db = build_sessionmaker(engine)
        made = [committed_agent(db, weekly=ALL_DAY, min_notice_minutes=0, timezone=ZONE.key) for _ in range(agents)]
    finally:
        engine.dispose()
    return [Target(link, types["Demo"]) for _, link, types in made]


def fire(base_url: str, requests: list[Request], threads: int) -> tuple[Counter[int], float]:
    """POST every (link, body) from `threads` client threads; status counts and wall seconds."""
    with httpx.Client(base_url=base_url, timeout=120, limits=httpx.Limits(max_connections=threads)) as http:

        def post(request: tuple[str, dict[str, object]]) -> int:
            link, payload = request
            return http.post(f"/api/v1/links/{link}/bookings", json=payload).status_code

        http.get("/healthz")
        with ThreadPoolExecutor(max_workers=threads) as pool:
            started = time.perf_counter()
            statuses = Counter(pool.map(post, requests))
            return statuses, time.perf_counter() - started


def fire_fast(base_url: str, requests: list[Request], connections: int) -> tuple[Counter[int], float]:
    """The same POSTs through bench.load_client (one asyncio loop, raw HTTP/1.1): the throughput
    runs use it, so the client's own CPU does not eat into what the API processes get."""
    return post_all(
        base_url, [(f"/api/v1/links/{link}/bookings", body) for link, body in requests], connections=connections
    )


def first_slot() -> datetime:
    day = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZONE).date()
    return datetime(day.year, day.month, day.day, tzinfo=ZONE)


@contextmanager
def database(kind: str, cluster: ThrowawayPostgres | None) -> Iterator[str]:
    if kind == "postgresql":
        assert cluster is not None
        yield cluster.url(cluster.create_database())
        return
    with tempfile.TemporaryDirectory(prefix="meetings-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def planned_bookings(url: str, *, requests: int, agents: int) -> tuple[list[Request], list[Request]]:
    """Seeds `agents` agents; returns one warm-up booking per agent (the day before, so it never
    collides) and `requests` bookings of distinct slots, spread round-robin over the agents."""
    targets = seed(url, agents)
    start = first_slot()
    warm_up = [(t.link, body(t, start - timedelta(days=1), -i)) for i, t in enumerate(targets)]
    planned = [
        (targets[n % agents].link, body(targets[n % agents], start + timedelta(minutes=30 * (n // agents)), n))
        for n in range(requests)
    ]
    return warm_up, planned


def distinct_slots(url: str, *, workers: int, requests: int, agents: int) -> tuple[float, Counter[int]]:
    warm_up, planned = planned_bookings(url, requests=requests, agents=agents)
    with running_api(url, workers=workers, extra_env=API_ENV) as base_url:
        fire(base_url, warm_up, 8)
        statuses, seconds = fire_fast(base_url, planned, CONNECTIONS)
    return statuses[201] / seconds, statuses


def one_slot(url: str, *, workers: int) -> tuple[Counter[int], float]:
    [target] = seed(url, 1)
    start = first_slot() + timedelta(hours=10)
    with running_api(url, workers=workers, extra_env=API_ENV) as base_url:
        return fire(base_url, [(target.link, body(target, start, n)) for n in range(200)], 64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3, help="uvicorn worker processes")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-limit", action="store_true", help="skip the pgbench limit runs")
    args = parser.parse_args(argv)
    cluster = ThrowawayPostgres()
    cluster.start()
    rows: list[tuple[str, str, str]] = []
    try:
        rates, outcomes, limits = [], [], []
        for _ in range(args.repeat):
            with database("postgresql", cluster) as url:
                rate, statuses = distinct_slots(url, workers=args.workers, requests=args.requests, agents=args.agents)
            rates.append(rate)
            outcomes.append(dict(statuses))
            if not args.no_limit:  # interleaved: the limit is measured under the same machine load
                with database("postgresql", cluster) as url:
                    seed(url, args.agents)
                    limits.append(replay_tps(url, agents=args.agents, clients=CONNECTIONS))
        median = statistics.median(rates)
        rows.append(
            (
                f"distinct-slot bookings/s, PostgreSQL, {args.workers} API processes",
                f"{median:.0f}/s (runs: {', '.join(f'{r:.0f}' for r in rates)}; statuses {outcomes[0]})",
                "met" if median >= BUDGET_PER_SECOND else "NOT reached",
            )
        )
        if limits:
            limit = statistics.median(limits)
            rows.append(
                (
                    f"limit: the booking transaction replayed by pgbench, {CONNECTIONS} clients (bench.pgbench_limit)",
                    f"{limit:.0f}/s (runs: {', '.join(f'{r:.0f}' for r in limits)}); the API reaches "
                    f"{100 * median / limit:.1f} % of it",
                    "—",
                )
            )
        for kind in ("sqlite", "postgresql"):
            results = []
            for _ in range(args.repeat):
                with database(kind, cluster) as url:
                    results.append(one_slot(url, workers=args.workers))
            exact = all(statuses == Counter({201: 1, 409: 199}) for statuses, _ in results)
            seconds = statistics.median(s for _, s in results)
            rows.append(
                (
                    f"200 concurrent bookings of one slot, {kind}, {args.workers} API processes",
                    f"{'; '.join(str(dict(s)) for s, _ in results)} in {seconds:.2f} s (median)",
                    "met" if exact else "NOT reached",
                )
            )
    finally:
        cluster.stop()
    print(f"bookings through HTTP: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print("| benchmark | result | budget |")
    print("|---|---|---|")
    for row in rows:
        print(f"| {' | '.join(row)} |")
    return 0 if all(verdict in ("met", "—") for _, _, verdict in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Funnel over 1,000,000 events on PostgreSQL (SPEC §13: ≤ 300 ms).

    .venv/bin/python -m bench.funnel [--database-url URL] [--events N] [--repeat 15]

Without --database-url a throwaway PostgreSQL cluster is started on a loopback port (tests/pg.py)
and dropped afterwards. bench/generate_events.py fills it; then shared.funnel.service.funnel — the
call the admin API and the dashboard make — is timed in a fresh transaction per run, unfiltered,
for the last 30 days, for one agent, and for one meeting type; the table shows the median and the
slowest of --repeat runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from bench.generate_events import END, generate
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.funnel.service import funnel
from shared.settings import Settings

BUDGET_MS = 300.0


@contextmanager
def postgres_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    from tests.pg import ThrowawayPostgres

    cluster = ThrowawayPostgres()
    cluster.start()
    try:
        yield cluster.url(cluster.create_database())
    finally:
        cluster.stop()


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    call()  # warm-up: plans, caches
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return runs


Row = tuple[str, int, float, float]


def measure(database_url: str, *, events: int, repeat: int) -> tuple[dict[str, Any], list[Row]]:
    made = generate(database_url, count=events)
    agent = made["agents"][0]
    meeting_type = made["meeting_types"][agent][0]
    cases: list[tuple[str, dict[str, Any]]] = [
        ("unfiltered, daily trend", {}),
        ("unfiltered, weekly trend", {"granularity": "week"}),
        ("last 30 days", {"start": END - timedelta(days=30), "end": END}),
        ("one agent", {"agent_id": agent}),
        ("one meeting type", {"meeting_type_id": meeting_type}),
    ]
    engine = build_engine(Settings(environment="development", database_url=database_url))
    db = build_sessionmaker(engine)
    rows = []
    try:
        for label, filters in cases:

            def call(filters: dict[str, Any] = filters) -> Any:
                with session_scope(db) as session:
                    return funnel(session, **filters)

            sessions = call().steps[0].sessions
            runs = timed(call, repeat)
            rows.append((label, sessions, statistics.median(runs), max(runs)))
    finally:
        engine.dispose()
    return made, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    with postgres_url(args.database_url) as url:
        made, rows = measure(url, events=args.events, repeat=args.repeat)
    print(
        f"funnel on PostgreSQL: {made['events']:,} events, {made['sessions']:,} sessions "
        f"(load {made['load_seconds']} s, rollup build {made['rollup_seconds']} s); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    budget = f"budget {BUDGET_MS:.0f} ms"
    print(f"| {'case':<26} | {'sessions at step 1':>18} | {'median ms':>9} | {'max ms':>7} | {budget:<15} |")
    print(f"|{'-' * 28}|{'-' * 20}|{'-' * 11}|{'-' * 9}|{'-' * 17}|")
    for label, sessions, median, slowest in rows:
        verdict = "met" if median <= BUDGET_MS else "NOT reached"
        print(f"| {label:<26} | {sessions:>18,} | {median:>9.1f} | {slowest:>7.1f} | {verdict:<15} |")
    return 0 if all(median <= BUDGET_MS for _, _, median, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

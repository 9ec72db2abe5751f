"""Funnel over 1,000,000 events on PostgreSQL (SPEC §13: ≤ 300 ms), and at 1×/10×/100× the data
with and without the per-day summary (SPEC §13: ≤ 1 s unfiltered, ≤ 300 ms for one agent at 10M).

    .venv/bin/python -m bench.funnel [--database-url URL] [--events N] [--repeat 15]
    .venv/bin/python -m bench.funnel --scales 1,10,100 [--scale-urls 1=URL,10=URL,100=URL] [--repeat 5]

Without --database-url a throwaway PostgreSQL cluster is started on a loopback port (tests/pg.py)
and dropped afterwards. bench/generate_events.py fills it; then shared.funnel.service.funnel — the
call the admin API and the dashboard make — is timed in a fresh transaction per run, unfiltered,
for the last 30 days, for one agent, and for one meeting type; the table shows the median and the
slowest of --repeat runs after one warm-up run.

With --scales: per scale a database filled by bench.generate_scale (in a throwaway cluster, dropped
afterwards; or the databases of --scale-urls, generated before at any revision and migrated to head
here), then: the migration's time (0008's expression indexes when the data predates it), the
summary's full refresh from nothing (every settled day, as the generator runs it), a refresh with
nothing to do (what every funnel call pays) and one with one dirty day; then interleaved repeats
of each case, "before" being the direct path (funnel(direct=True): main's statements, every
session of the range) and "after" the product's call (funnel() with the summary's refresh in its
own transaction, as the admin API passes it), each in a fresh session; medians of the repeats.
Every "after" answer is checked to be identical to the direct one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from bench.generate_events import END, generate
from bench.generate_scale import generate as generate_scale
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.funnel import summary
from shared.funnel.service import funnel
from shared.migrate import upgrade_to_head
from shared.models import Agent, FunnelSession
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


def _ms(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure_scale(url: str, *, repeat: int) -> tuple[dict[str, float], list[tuple[str, float, float, float]]]:
    """(setup times in ms, [(case, budget ms, before ms, after ms)]) on one generated database."""
    setup = {"migrate to head": _ms(lambda: upgrade_to_head(url))}
    engine = build_engine(Settings(environment="development", database_url=url))
    db = build_sessionmaker(engine)
    try:
        with session_scope(db) as session:
            agent = int(session.scalar(select(func.min(Agent.id))) or 0)  # the busy agent (bench.generate_scale)
            last = session.scalar(select(func.max(FunnelSession.first_at)))
            summary.forget_summary(session)
        now = datetime.now(UTC)
        setup["summary refresh from nothing"] = _ms(lambda: summary.refresh_in_own_transaction(db, now=now))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE funnel_day_counts, funnel_day_gaps"))
        setup["summary refresh, nothing to do"] = statistics.median(
            _ms(lambda: summary.refresh_in_own_transaction(db, now=now)) for _ in range(5)
        )
        assert last is not None
        with session_scope(db) as session:
            summary.mark_dirty(session, days=[last.date()])
        setup["summary refresh, one dirty day"] = _ms(lambda: summary.refresh_in_own_transaction(db, now=now))
        end = datetime.combine(last.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        cases: list[tuple[str, float, dict[str, Any]]] = [
            ("unfiltered (daily trend)", 1000.0, {}),
            ("the last 30 days of events", 1000.0, {"start": end - timedelta(days=30), "end": end}),
            ("one agent (the busy agent)", 300.0, {"agent_id": agent}),
        ]

        def before(filters: dict[str, Any]) -> Any:
            with session_scope(db) as session:
                return funnel(session, direct=True, **filters)

        def after(filters: dict[str, Any]) -> Any:
            # As the admin API calls it: the summary's refresh (when it will be read) in its own transaction.
            with session_scope(db) as session:
                return funnel(session, refresh=lambda: summary.refresh_in_own_transaction(db, now=now), **filters)

        for label, _, filters in cases:
            if before(filters) != after(filters):  # also the warm-up
                raise AssertionError(f"the summary's answer differs from the direct path's: {label}")
        runs: dict[tuple[str, str], list[float]] = {}
        for _ in range(repeat):
            for label, _, filters in cases:
                for side, call in (("before", before), ("after", after)):
                    ms = _ms(lambda call=call, filters=filters: call(filters))  # type: ignore[misc]
                    runs.setdefault((label, side), []).append(ms)
        rows = [
            (label, budget, statistics.median(runs[label, "before"]), statistics.median(runs[label, "after"]))
            for label, budget, _ in cases
        ]
        return setup, rows
    finally:
        engine.dispose()


def main_scales(args: argparse.Namespace) -> int:
    given = dict(item.split("=", 1) for item in args.scale_urls.split(",")) if args.scale_urls else {}
    met = True
    cluster = None
    try:
        for scale in [int(s) for s in args.scales.split(",")]:
            url = given.get(str(scale))
            database = None
            if url is None:
                if cluster is None:
                    from tests.pg import ThrowawayPostgres

                    cluster = ThrowawayPostgres()
                    cluster.start()
                database = cluster.create_database()
                url = cluster.url(database)
                generate_scale(url, scale=scale)
            try:
                setup, rows = measure_scale(url, repeat=args.repeat)
            finally:
                if cluster is not None and database is not None:
                    cluster.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            print(
                f"\n{scale}×: "
                + "; ".join(f"{name} {ms:,.1f} ms" for name, ms in setup.items())
                + f"; {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )
            print("| case | budget | before: direct (ms) | after: summary + refresh (ms) | verdict |")
            print("|---|---|---|---|---|")
            for label, budget, was, now_ms in rows:
                verdict = "met" if now_ms <= budget else "NOT met"
                met = met and now_ms <= budget
                print(f"| {label} | ≤ {budget:g} ms | {was:,.1f} | {now_ms:,.1f} | {verdict} |")
    finally:
        if cluster is not None:
            cluster.stop()
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--scales", help="comma-separated of 1, 10, 100: before/after the per-day summary")
    parser.add_argument("--scale-urls", help="scale=URL,...: databases bench.generate_scale filled before")
    args = parser.parse_args(argv)
    if args.scales:
        return main_scales(args)
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

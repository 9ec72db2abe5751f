"""`meetings copy-data` timing: the demo data, and a database of N generated events, SQLite → PostgreSQL.

    .venv/bin/python -m bench.copy_data --events 1000000

Builds each source as a fresh SQLite file (the demo seeder; bench.generate_events), a fresh migrated
PostgreSQL database on a throwaway cluster (tests.pg) as the target, runs shared.datamove.copy and
prints one table: rows copied, seconds, rows per second.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.generate_events import generate
from shared.datamove.copy import copy_data
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.demo import seed_demo
from shared.migrate import upgrade_to_head
from shared.models import utcnow
from shared.settings import Settings
from tests.pg import ThrowawayPostgres


def _settings(url: str) -> Settings:
    return Settings(environment="development", database_url=url)


def _demo_source(path: Path) -> str:
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    engine = build_engine(_settings(url))
    with session_scope(build_sessionmaker(engine)) as session:
        seed_demo(session, now=utcnow(), settings=_settings(url))
    engine.dispose()
    return url


def _time_copy(source_url: str, target_url: str) -> tuple[int, float]:
    upgrade_to_head(target_url)
    source, target = build_engine(_settings(source_url)), build_engine(_settings(target_url))
    try:
        started = time.perf_counter()
        copied = copy_data(source, target)
        return sum(t.rows for t in copied), time.perf_counter() - started
    finally:
        source.dispose()
        target.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events of the large case (0: demo only)")
    args = parser.parse_args(argv)
    cluster = ThrowawayPostgres()
    cluster.start()
    results: list[tuple[str, int, float]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            demo = _demo_source(Path(folder) / "demo.db")
            results.append(("demo data", *_time_copy(demo, cluster.url(cluster.create_database()))))
            if args.events:
                big = f"sqlite:///{Path(folder) / 'events.db'}"
                generate(big, count=args.events)
                label = f"{args.events:,} events"
                results.append((label, *_time_copy(big, cluster.url(cluster.create_database()))))
    finally:
        cluster.stop()
    print(f"{'source (SQLite → PostgreSQL)':<30} {'rows':>12} {'seconds':>9} {'rows/s':>10}")
    for label, rows, seconds in results:
        print(f"{label:<30} {rows:>12,} {seconds:>9.1f} {rows / seconds:>10,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

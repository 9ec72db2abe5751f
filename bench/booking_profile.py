"""Where a booking's time goes, in-process: SQL statements and CPU per booking (SPEC §13 context).

    .venv/bin/python -m bench.booking_profile [--bookings 300] [--sqlite] [--widget] [--pyinstrument FILE]

Sequential bookings through Starlette's TestClient against a fresh migrated database (a throwaway
PostgreSQL cluster from tests/pg.py, or a SQLite file with --sqlite), rate limits off as in
bench.bookings. For each booking it counts the statements sent (a `before_cursor_execute`
listener on the app's engine, grouped by their first words) and the CPU time of this process
(`time.process_time()`: server and test client together, since both run here). --widget adds a
visitor id and a widget session id to every request and posts steps 1-3 of that session first
(not measured), as the widget does, so the visitor's anonymous contact is adopted and the funnel
rollup upserts run too. --pyinstrument writes an HTML profile of the run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.default import CACHE_HIT
from starlette.testclient import TestClient

from bench.bookings import ALL_DAY, ZONE, Target, body, first_slot
from shared.db import build_engine, build_sessionmaker
from shared.migrate import upgrade_to_head
from shared.settings import Settings
from tests.factories import committed_agent
from tests.pg import ThrowawayPostgres
from widget_api.app import create_app

_VERB = re.compile(r"\s*(\w+)(?:\s+(?:INTO|FROM)?\s*(\w+))?", re.IGNORECASE)


def statement_kind(sql: str) -> str:
    """`INSERT bookings`, `SELECT agents`, `UPDATE agents`… from the statement's first words."""
    match = _VERB.match(sql)
    if match is None:
        return sql[:30]
    verb, table = match.group(1).upper(), (match.group(2) or "")
    if verb == "SELECT":
        outer = sql
        while (inner := re.sub(r"\([^()]*\)", "", outer)) != outer:  # drop subqueries (EXISTS …)
            outer = inner
        found = re.search(r"\bFROM\s+(\w+)", outer, re.IGNORECASE)
        table = found.group(1) if found else table
    return f"{verb} {table}".strip()


def seed(url: str, agents: int) -> list[Target]:
    upgrade_to_head(url)
    engine = build_engine(Settings(environment="development", database_url=url))
    try:
        factory = build_sessionmaker(engine)
        made = [
            committed_agent(factory, weekly=ALL_DAY, min_notice_minutes=0, timezone=ZONE.key) for _ in range(agents)
        ]
    finally:
        engine.dispose()
    return [Target(link, types["Demo"]) for _, link, types in made]


def run(url: str, *, bookings: int, agents: int, widget: bool, profile_to: str | None) -> dict[str, Any]:
    targets = seed(url, agents)
    start = first_slot()
    settings = Settings(environment="test", database_url=url, rate_limit_enabled=False)
    app = create_app(settings)
    statements: list[str] = []
    uncached: Counter[str] = Counter()  # compiled anew (SQLAlchemy's statement cache missed)
    cpu: list[float] = []
    per_booking: list[int] = []
    with TestClient(app) as client:
        engine = app.state.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, sql: str, _params: Any, context: Any, _many: bool) -> None:
            statements.append(sql)
            if getattr(context, "compiled", None) is not None and context.cache_hit is not CACHE_HIT:
                uncached[f"{statement_kind(sql)} ({context._get_cache_stats().split(' ')[0]})"] += 1

        def payload(n: int) -> tuple[str, dict[str, object]]:
            target = targets[n % agents]
            data = body(target, start + timedelta(minutes=30 * (n // agents)), n)
            if widget:
                data["visitor_id"] = f"v-{uuid.uuid4().hex}"
                data["session_id"] = f"s-{uuid.uuid4().hex}"
            return target.link, data

        for n in range(agents):  # warm-up: first request per agent, caches, connections
            link, data = payload(bookings + n)
            data["start"] = (start - timedelta(days=1) + timedelta(minutes=30 * n)).isoformat()
            assert client.post(f"/api/v1/links/{link}/bookings", json=data).status_code == 201
        planned = [payload(n) for n in range(bookings)]
        if widget:  # steps 1-3 first, as the widget sends them: the visitor exists, anonymous
            for link, data in planned:
                for step in ("calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step"):
                    event_body = {
                        "visitor_id": data["visitor_id"],
                        "session_id": data["session_id"],
                        "link": link,
                        "name": step,
                        "meeting_type_id": data["meeting_type_id"],
                    }
                    assert client.post("/api/v1/events", json=event_body).status_code == 202
        statements.clear()
        uncached.clear()
        kinds: Counter[str] = Counter()
        profiler = None
        if profile_to:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            profiler.start()
        for link, data in planned:
            before = len(statements)
            started = time.process_time()
            response = client.post(f"/api/v1/links/{link}/bookings", json=data)
            cpu.append(time.process_time() - started)
            assert response.status_code == 201, response.text
            per_booking.append(len(statements) - before)
        if profiler is not None:
            profiler.stop()
            Path(profile_to).write_text(profiler.output_html())  # type: ignore[arg-type]
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        kinds.update(statement_kind(sql) for sql in statements)
    return {
        "statements": statistics.median(per_booking),
        "kinds": {kind: count / bookings for kind, count in kinds.most_common()},
        "uncached": {kind: count / bookings for kind, count in uncached.most_common()},
        "cpu_ms": statistics.median(cpu) * 1000,
        "cpu_mean_ms": statistics.mean(cpu) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--widget", action="store_true", help="send visitor and session ids, as the widget does")
    parser.add_argument("--pyinstrument", metavar="FILE", help="write a pyinstrument HTML profile here")
    args = parser.parse_args(argv)
    options = {"bookings": args.bookings, "agents": args.agents, "widget": args.widget, "profile_to": args.pyinstrument}
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="meetings-profile-") as folder:
            result = run(f"sqlite:///{Path(folder) / 'p.db'}", **options)
    else:
        cluster = ThrowawayPostgres()
        cluster.start()
        try:
            result = run(cluster.url(cluster.create_database()), **options)
        finally:
            cluster.stop()
    kind = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"{args.bookings} sequential bookings through TestClient on {kind}{' (widget ids)' if args.widget else ''}")
    print(f"statements per booking (median): {result['statements']}")
    for name, count in result["kinds"].items():
        print(f"  {count:5.2f}  {name}")
    print("statements per booking compiled anew (not from SQLAlchemy's cache):")
    for name, count in result["uncached"].items():
        print(f"  {count:5.2f}  {name}")
    print(f"CPU per booking, server + client: median {result['cpu_ms']:.2f} ms, mean {result['cpu_mean_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

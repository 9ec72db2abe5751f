"""Make a large funnel data set: N step events (default 1,000,000) in realistic widget sessions.

    .venv/bin/python -m bench.generate_events DATABASE_URL [--events N] [--agents 20] [--seed S]

The database is migrated, gets `--agents` agents (with the predefined meeting types), then the
events are loaded in bulk — COPY on PostgreSQL, multi-row INSERTs on SQLite — and the funnel rollup
is built from them with shared.funnel.rollup.rebuild, the INSERT … SELECT that the migration's
backfill uses and that tests/funnel/test_rollup.py checks yields the same rows as recording
the events one by one. Sessions: step 1 (sometimes repeated), then each further step with a
drop-off, sometimes going back a step; spread over 180 days before 2026-06-01 at working hours.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, text

from shared.agents.service import create_agent
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.funnel import rollup
from shared.migrate import upgrade_to_head
from shared.models import Event
from shared.settings import Settings
from shared.steps.names import STEP_EVENTS

END = datetime(2026, 6, 1, tzinfo=UTC)
DAYS = 180
# Probability of going on from step i to step i+1.
CONTINUE = (0.65, 0.6, 0.75)
COLUMNS = ("name", "attributes", "occurred_at", "agent_id", "meeting_type_id", "session_id", "visitor_id")


@dataclass(frozen=True)
class Agents:
    ids: list[int]
    meeting_types: dict[int, list[int]]  # agent id -> its meeting type ids


def _session_events(rng: random.Random, number: int, agents: Agents) -> Iterator[tuple[object, ...]]:
    agent = rng.choice(agents.ids)
    meeting_type = rng.choice(agents.meeting_types[agent])
    moment = END - timedelta(days=rng.randrange(DAYS), hours=rng.randrange(7, 19), seconds=rng.randrange(3600))
    session_id = f"bench-{number:08d}"
    visitor_id = f"visitor-{number % 400_000:06d}"
    level = 0
    while True:
        yield (STEP_EVENTS[level], moment, agent, meeting_type, session_id, visitor_id)
        moment += timedelta(seconds=rng.randint(3, 240))
        if level == 3:
            return
        roll = rng.random()
        if roll < 0.08 and level > 0:  # back a step (or to another meeting type)
            level -= 1
            if level == 0:
                meeting_type = rng.choice(agents.meeting_types[agent])
        elif roll < 0.08 + CONTINUE[level] * 0.92:
            level += 1
        else:
            return


def events(count: int, agents: Agents, seed: int) -> Iterator[tuple[object, ...]]:
    """Exactly `count` step events (the last session may be cut short, as a live one would be)."""
    rng = random.Random(seed)
    made = 0
    number = 0
    while True:
        for row in _session_events(rng, number, agents):
            yield row
            made += 1
            if made == count:
                return
        number += 1


def _make_agents(engine: Engine, count: int) -> Agents:
    with session_scope(build_sessionmaker(engine)) as session:
        made = [
            create_agent(session, name=f"Agent {n}", email=f"agent{n}@bench.example.com", timezone="Europe/Warsaw")
            for n in range(count)
        ]
        session.flush()
        return Agents(ids=[a.id for a in made], meeting_types={a.id: [m.id for m in a.meeting_types] for a in made})


def _load_postgresql(engine: Engine, rows: Iterator[tuple[object, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        copy_sql = f"COPY events ({', '.join(COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[union-attr]
            for name, moment, agent, meeting_type, session_id, visitor_id in rows:
                copy.write_row((name, "{}", moment, agent, meeting_type, session_id, visitor_id))
        raw.commit()
    finally:
        raw.close()


def _load_sqlite(engine: Engine, rows: Iterator[tuple[object, ...]], batch: int = 20_000) -> None:
    statement = insert(Event)
    with engine.begin() as connection:
        chunk: list[dict[str, object]] = []
        for name, moment, agent, meeting_type, session_id, visitor_id in rows:
            chunk.append(
                {
                    "name": name,
                    "attributes": {},
                    "occurred_at": moment,
                    "agent_id": agent,
                    "meeting_type_id": meeting_type,
                    "session_id": session_id,
                    "visitor_id": visitor_id,
                }
            )
            if len(chunk) == batch:
                connection.execute(statement, chunk)
                chunk = []
        if chunk:
            connection.execute(statement, chunk)


def generate(database_url: str, *, count: int = 1_000_000, agents: int = 20, seed: int = 1) -> dict[str, object]:
    """Migrate, seed agents, load `count` events and build the rollup; returns what was made."""
    upgrade_to_head(database_url)
    engine = build_engine(Settings(environment="development", database_url=database_url))
    try:
        made = _make_agents(engine, agents)
        started = time.perf_counter()
        rows = events(count, made, seed)
        if engine.dialect.name == "postgresql":
            _load_postgresql(engine, rows)
        else:
            _load_sqlite(engine, rows)
        loaded = time.perf_counter()
        with session_scope(build_sessionmaker(engine)) as session:
            rollup.rebuild(session)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE events"))
                connection.execute(text("VACUUM ANALYZE funnel_sessions"))
                connection.execute(text("VACUUM ANALYZE funnel_session_meeting_types"))
        with engine.connect() as connection:
            sessions = connection.execute(text("SELECT count(*) FROM funnel_sessions")).scalar_one()
            total = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
        return {
            "events": total,
            "sessions": sessions,
            "agents": made.ids,
            "meeting_types": made.meeting_types,
            "load_seconds": round(loaded - started, 1),
            "rollup_seconds": round(time.perf_counter() - loaded, 1),
        }
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.database_url, count=args.events, agents=args.agents, seed=args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

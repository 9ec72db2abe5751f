"""The funnel rollup: the per-event upsert, the bulk rebuild and the migration's backfill agree.

bench/generate_events.py loads a million events in bulk and builds the rollup with `rebuild`; the
product builds it event by event with `record_step`. Both must produce the same rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from shared.contacts.service import record_event
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.funnel import rollup
from shared.funnel.service import funnel
from shared.migrate import alembic_config
from shared.models import Event, FunnelSession, FunnelSessionMeetingType
from shared.settings import Settings
from shared.steps.names import STEP_EVENTS
from tests.factories import committed_agent
from tests.pg import ThrowawayPostgres

ORIGIN = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _rows(session: Session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    sessions = session.execute(
        select(
            FunnelSession.session_id,
            FunnelSession.agent_id,
            FunnelSession.first_at,
            FunnelSession.top_step,
            FunnelSession.step1_at,
            FunnelSession.step2_at,
            FunnelSession.step3_at,
            FunnelSession.step4_at,
        ).order_by(FunnelSession.session_id)
    ).all()
    types = session.execute(
        select(FunnelSessionMeetingType.session_id, FunnelSessionMeetingType.meeting_type_id).order_by(
            FunnelSessionMeetingType.session_id, FunnelSessionMeetingType.meeting_type_id
        )
    ).all()
    return [tuple(r) for r in sessions], [tuple(r) for r in types]


def _random_events(agents: list[int], types: list[int], seed: int) -> list[dict[str, Any]]:
    """Sessions with steps out of order, repeats, missing agents and meeting types, noise events."""
    rng = random.Random(seed)
    events = []
    for number in range(40):
        for _ in range(rng.randint(1, 6)):
            events.append(
                {
                    "name": rng.choice([*STEP_EVENTS, "booking_confirmed"]),
                    "session_id": f"r{number}",
                    "agent_id": rng.choice([None, *agents]),
                    "meeting_type_id": rng.choice([None, *types]),
                    "occurred_at": ORIGIN + timedelta(seconds=rng.randint(0, 5 * 86400)),
                }
            )
    events.append(
        {
            "name": STEP_EVENTS[0],
            "session_id": None,
            "agent_id": agents[0],
            "meeting_type_id": None,
            "occurred_at": ORIGIN,
        }
    )
    return events


def test_rebuild_equals_the_rows_built_event_by_event(db: sessionmaker[Session]) -> None:
    a, _, a_types = committed_agent(db)
    b, _, b_types = committed_agent(db)
    with session_scope(db) as session:
        for event in _random_events([a, b], [*a_types.values(), *b_types.values()], seed=8):
            record_event(session, contact_id=None, **event)
    with session_scope(db) as session:
        upserted = _rows(session)
        rollup.rebuild(session)
    with session_scope(db) as session:
        rebuilt = _rows(session)
    assert len(upserted[0]) > 30
    assert len(upserted[1]) > 30
    assert rebuilt == upserted


def test_one_session_row_by_hand(db: sessionmaker[Session]) -> None:
    agent, _, types = committed_agent(db)
    s1, s2, s3, s4 = STEP_EVENTS
    steps = [  # arrival order differs from time order; the first event names no agent
        (s2, 30, None, types["Demo"]),
        (s1, 10, agent, types["Onboarding"]),
        (s1, 0, None, None),
        (s3, 50, agent, types["Demo"]),
        (s2, 20, agent, None),
        ("booking_confirmed", 5, agent, None),
    ]
    with session_scope(db) as session:
        for name, seconds, agent_id, type_id in steps:
            record_event(
                session,
                name=name,
                contact_id=None,
                agent_id=agent_id,
                meeting_type_id=type_id,
                session_id="x",
                occurred_at=ORIGIN + timedelta(seconds=seconds),
            )
    with session_scope(db) as session:
        sessions, links = _rows(session)
    at = [ORIGIN + timedelta(seconds=s) for s in (0, 20, 50)]
    assert sessions == [("x", agent, at[0], 3, at[0], at[1], at[2], None)]
    assert links == sorted([("x", types["Demo"]), ("x", types["Onboarding"])])
    with session_scope(db) as session:
        result = funnel(session, meeting_type_id=types["Onboarding"])
    assert [s.sessions for s in result.steps] == [1, 1, 1, 0]
    assert [(d.median_seconds, d.sessions) for d in result.median_seconds_between_steps] == [
        (20.0, 1),
        (30.0, 1),
        (None, 0),
    ]


@pytest.fixture
def empty_database_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A database with no tables, on the same backend as `database_url`."""
    if database_url.startswith("postgresql"):
        cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
        return cluster.url(cluster.create_database())
    return f"sqlite:///{tmp_path / 'empty.db'}"


def test_the_migration_backfills_the_rollup_from_existing_events(
    empty_database_url: str, db: sessionmaker[Session]
) -> None:
    config = alembic_config(empty_database_url)
    # The agent is written by today's models, so at head; then the schema goes back to 0001 (later
    # migrations add columns the agent rows keep or lose) and the events are written as before 0002.
    command.upgrade(config, "head")
    engine = build_engine(Settings(environment="test", database_url=empty_database_url))
    try:
        old = build_sessionmaker(engine)
        a, _, a_types = committed_agent(old)
        engine.dispose()
        command.downgrade(config, "0001")
        events = _random_events([a], list(a_types.values()), seed=3)
        # Before 0002 there is no rollup: write the events themselves, as the old code did.
        with session_scope(old) as session:
            # Only the columns of 0001 (today's Event model has more, e.g. team_id of 0007).
            session.execute(insert(Event.__table__), [{"attributes": {}, "contact_id": None, **e} for e in events])
        engine.dispose()
        command.downgrade(config, "0001")
        command.upgrade(config, "head")
        with session_scope(old) as session:
            backfilled = _rows(session)
    finally:
        engine.dispose()
    # The same events recorded through the product on a database already at head.
    b, _, b_types = committed_agent(db)
    assert (b, list(b_types.values())) == (a, list(a_types.values()))
    with session_scope(db) as session:
        for event in events:
            record_event(session, contact_id=None, **event)
    with session_scope(db) as session:
        assert _rows(session) == backfilled
    assert backfilled[0]
    command.downgrade(config, "0001")
    bare = create_engine(empty_database_url)
    try:
        assert not {"funnel_sessions", "funnel_session_meeting_types"} & set(inspect(bare).get_table_names())
    finally:
        bare.dispose()

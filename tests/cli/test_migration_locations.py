"""Migration 0004 (meeting locations): existing types get `none`, and stepping back and forth keeps
every row and every reference to the tables it changes."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from shared.db import build_engine, build_sessionmaker, session_scope
from shared.migrate import alembic_config
from shared.models import Event, MeetingType
from shared.settings import Settings
from tests.factories import committed_agent


def test_existing_types_get_none_and_no_reference_is_lost(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    engine = build_engine(Settings(environment="test", database_url=empty_database_url))
    try:
        factory = build_sessionmaker(engine)
        _, _, types = committed_agent(factory)
        with session_scope(factory) as session:
            session.get(MeetingType, types["Demo"]).location_kind = "phone"  # type: ignore[union-attr]
            session.add(Event(name="calendar_1st_step", attributes={}, meeting_type_id=types["Demo"]))
    finally:
        engine.dispose()

    command.downgrade(config, "0002")  # the schema before locations, with the rows kept
    bare = create_engine(empty_database_url)
    try:
        with bare.connect() as connection:
            columns = set(connection.execute(text("SELECT * FROM meeting_types LIMIT 0")).keys())
            assert "location_kind" not in columns
            assert connection.execute(text("SELECT meeting_type_id FROM events")).scalar_one() == types["Demo"]
        command.upgrade(config, "head")
        with bare.connect() as connection:
            kinds = connection.execute(text("SELECT location_kind, location_value FROM meeting_types")).all()
            assert set(kinds) == {("none", None)}  # existing types: none (the phone set before 0004 is gone)
            assert connection.execute(text("SELECT meeting_type_id FROM events")).scalar_one() == types["Demo"]
            booking_columns = connection.execute(text("SELECT * FROM bookings LIMIT 0")).keys()
            assert {"location_kind", "location_value", "join_url", "phone"} <= set(booking_columns)
    finally:
        bare.dispose()

"""Engine and the one unit-of-work helper.

Services `flush()`; only `session_scope()` commits, once, at the edge (HTTP request, dashboard
action, worker job). That is what makes a booking, its outbox rows and its step event atomic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from shared.settings import Settings

# Both dialects' INSERT constructs offer ON CONFLICT and RETURNING the same way; this picks the one
# the connected database speaks.
DialectInsert = postgresql.Insert | sqlite.Insert


def build_engine(settings: Settings, **overrides: Any) -> Engine:
    if settings.is_sqlite:
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=overrides.pop("pool_size", 20),
            max_overflow=overrides.pop("max_overflow", 40),
            **overrides,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside the single writer; busy_timeout makes writers queue
            # instead of failing, which is what serialises bookings on SQLite.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(
        settings.database_url,
        pool_size=overrides.pop("pool_size", settings.db_pool_size),
        max_overflow=overrides.pop("max_overflow", settings.db_max_overflow),
        pool_pre_ping=True,
        **overrides,
    )


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """End the session's transaction here: commit on success, roll back on any exception."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction in a new session, closed afterwards."""
    session = factory()
    try:
        with transaction(session):
            yield session
    finally:
        session.close()


def dialect_name(bind: Session | Connection | Engine) -> str:
    """`postgresql` or `sqlite`: the database a session, connection or engine talks to."""
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def upsert_insert(bind: Session | Connection | Engine | str, table: Any) -> DialectInsert:
    """An INSERT with `on_conflict_*` for `table` (a Table or a mapped class) in the dialect of `bind`
    (a session, connection or engine, or a dialect name).

    The one place that knows PostgreSQL and SQLite spell upserts with different constructs.
    """
    name = bind if isinstance(bind, str) else dialect_name(bind)
    if name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)

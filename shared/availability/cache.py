"""A short-lived, per-process cache of public availability answers (slots of a date, days of a month).

Why: a widget asks the same `GET …/slots` / `…/days` question many times; computing it takes three
ORM reads and the engine, validating a cached answer takes one Core query (`answer_version`).

Validity — an entry is served only while all of these hold:
- **Same question**: (link, meeting type id, date or month, time zone) is the key.
- **Same data, as far as the database says**: `answer_version` reads, by link, the agent's
  `booking_lock_version` (bumped in the same transaction by every booking, cancel and reschedule,
  in any process: shared/booking/service.py `lock_agent`), the availability row's `updated_at` and
  the meeting type's duration. A booking written by *any* process therefore changes the version and
  the next read recomputes. The same query is what answers 404 for an unknown or rotated link and
  an inactive, deleted or foreign meeting type, so those are checked before any entry is served.
- **Nothing relevant committed in this process since**: every Session commit that flushed or
  executed a write of bookings, availability, meeting types, agents or calendar connections bumps a
  process-wide generation (`_note_write`, installed at start-up by `install_invalidation`), which
  invalidates every entry of this process at once.
  That also covers writes that do not go through `lock_agent` (test factories, the dashboard in the
  same process).
- **Young**: at most `ttl` seconds old (MEETINGS_AVAILABILITY_CACHE_SECONDS, default 5; 0 = off),
  both by the monotonic clock and by the app clock (`now`);
  an entry computed for another `now` (a test clock moved back) is never served.

What may be stale, for at most `ttl` (5 s) and only across processes: busy times of a connected
calendar (which have their own short cache anyway), a new calendar connection, rows written without
`lock_agent` by another process (the demo seeder), and the edges that move with time (a slot that
crosses the minimum notice, a day entering the horizon). That is acceptable ONLY because a booking is
always re-validated at booking time against fresh data (shared/booking/service.py `_check_slot`,
`fresh=True`): a stale slot can be shown, never booked — the invitee gets 409/422 and picks another.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Hashable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, SelectBase, bindparam, event, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from shared.agents.bookable import is_bookable, is_bookable_for_team
from shared.agents.errors import LinkNotFound, MeetingTypeNotFound
from shared.models import Agent, Availability, Booking, BookingHost, MeetingType, Team, TeamMember
from shared.models.calendar import CalendarConnection

# Ids outside this range take the uncached path, which keeps the established answers for them
# (422 "out of range" or 404, depending on the database) without this module having to copy them.
MAX_CACHEABLE_ID = 2**31 - 1

_WATCHED_TYPES = (Agent, Availability, Booking, BookingHost, MeetingType, CalendarConnection, Team, TeamMember)
_WATCHED_TABLES = frozenset(model.__tablename__ for model in _WATCHED_TYPES)
_DIRTY = "meetings.availability_cache_dirty"

_generation = 0
_generation_lock = threading.Lock()


def generation() -> int:
    """Bumped by every commit in this process that wrote anything an availability answer reads."""
    return _generation


def invalidate_all() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


def _note_flush(session: Session, flush_context: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _WATCHED_TYPES):
            session.info[_DIRTY] = True
            return


def _note_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table is None or table in _WATCHED_TABLES:
            state.session.info[_DIRTY] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        invalidate_all()


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    # Rolled back: nothing reached the database. (Invalidating would be safe too, just wasteful.)
    if not session.in_transaction():
        session.info.pop(_DIRTY, None)


_LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("after_flush", _note_flush),
    ("do_orm_execute", _note_write),
    ("after_commit", _after_commit),
    ("after_soft_rollback", _after_rollback),
)


def install_invalidation() -> None:
    """Make every Session of this process bump the generation when it commits a watched write.

    Called once at start-up by the process that serves cached answers (widget_api.app.create_app);
    calling it again changes nothing. Nothing is installed at import, so importing this module (the
    dashboard, the worker, a test) leaves Session alone.
    """
    for name, listener in _LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# Built once: constructing the statement costs several times more than running it on SQLite.
_VERSION_QUERY = (
    select(
        Agent.id,
        Agent.booking_lock_version,
        Availability.updated_at,
        MeetingType.id.label("meeting_type_id"),
        # Named as on MeetingType, so the row is what shared.agents.bookable's rule reads.
        MeetingType.agent_id.label("agent_id"),
        MeetingType.active,
        MeetingType.deleted_at,
        MeetingType.duration_minutes,
    )
    .select_from(Agent)
    .join(Availability, Availability.agent_id == Agent.id)
    .outerjoin(MeetingType, MeetingType.id == bindparam("meeting_type_id"))
    .where(Agent.link == bindparam("link"), Agent.active.is_(True))
)


# A team's link (SPEC §15): the team's mode and type, and every member's lock version and rules, so a
# booking, cancel or rules change of any member (through the team or directly) changes the version.
_TEAM_VERSION_QUERY = (
    select(
        Team.id.label("team_id"),
        Team.mode,
        MeetingType.id.label("meeting_type_id"),
        MeetingType.team_id.label("type_team_id"),
        MeetingType.active,
        MeetingType.deleted_at,
        MeetingType.duration_minutes,
        TeamMember.agent_id,
        Agent.active.label("agent_active"),
        Agent.booking_lock_version,
        Availability.updated_at,
    )
    .select_from(Team)
    .outerjoin(MeetingType, MeetingType.id == bindparam("meeting_type_id"))
    .outerjoin(TeamMember, TeamMember.team_id == Team.id)
    .outerjoin(Agent, Agent.id == TeamMember.agent_id)
    .outerjoin(Availability, Availability.agent_id == Agent.id)
    .where(Team.link == bindparam("link"), Team.deleted_at.is_(None))
    .order_by(TeamMember.agent_id)
)


@dataclass(frozen=True)
class AnswerVersion:
    """The agent and meeting type behind a link, and what an availability answer depends on."""

    agent_id: int
    meeting_type_id: int
    stamp: Hashable  # compared, never interpreted


Rows = Callable[[Any, dict[str, Any]], Sequence[Any]]
"""Runs one of the version statements with its parameters: the rows, by column name."""


def answer_version(connection: Connection, *, link: str, meeting_type_id: int) -> AnswerVersion:
    """One Core query by link; LinkNotFound / MeetingTypeNotFound exactly as the ORM path raises them
    (get_agent_by_link, get_bookable_meeting_type)."""
    return _answer_version(
        lambda query, params: connection.execute(query, params).all(), link=link, meeting_type_id=meeting_type_id
    )


def _answer_version(rows_of: Rows, *, link: str, meeting_type_id: int) -> AnswerVersion:
    if "\x00" in link:
        raise LinkNotFound()
    params = {"link": link, "meeting_type_id": meeting_type_id}
    rows = rows_of(_VERSION_QUERY, params)
    if not rows:
        return _team_answer_version(rows_of(_TEAM_VERSION_QUERY, params))
    row = rows[0]
    if not is_bookable(row, agent_id=row.id):  # no meeting type at all: agent_id is NULL
        raise MeetingTypeNotFound()
    return AnswerVersion(
        agent_id=row.id,
        meeting_type_id=row.meeting_type_id,
        stamp=(row.booking_lock_version, row.updated_at, row.duration_minutes),
    )


def _team_answer_version(rows: Sequence[Any]) -> AnswerVersion:
    if not rows:
        raise LinkNotFound()
    first = rows[0]
    state = {"team_id": first.type_team_id, "active": first.active, "deleted_at": first.deleted_at}
    if not is_bookable_for_team(_Row(**state), team_id=first.team_id):
        raise MeetingTypeNotFound()
    members = tuple((r.agent_id, r.agent_active, r.booking_lock_version, r.updated_at) for r in rows)
    return AnswerVersion(
        agent_id=-first.team_id,  # never an agent's id: the entry is the team's
        meeting_type_id=first.meeting_type_id,
        stamp=("team", first.mode, first.duration_minutes, members),
    )


class DriverVersionReader:
    """`answer_version` on one driver (DBAPI) connection of `engine`, the statements compiled once.

    Why: through a SQLAlchemy Connection the one-row read costs ~130 µs of CPU on SQLite (pool
    checkout and return, execution context, result set-up); on the driver's cursor ~15 µs, and a
    cache hit is little else. Same statements, same rows, same 404s. For one thread at a time (the
    event loop's): the connection is taken from the engine's pool once and kept (detached from the
    pool, which may open another one for the fallback below) until `close`, or until the engine is
    disposed (a new pool): then the next read opens a new one, as a pooled connection would.

    The values come as the driver gives them (SQLite's timestamps as text), so a version read here
    never equals one read through SQLAlchemy: an entry validated one way and looked up the other
    way is a miss, never a wrong hit. Every statement ends before `version` returns (rows fetched,
    cursor closed), so with SQLite's autocommit reads no snapshot is held between requests: each
    read sees what any process committed before it.

    `version` returns None when the driver fails (a database that went away, a locked file); the
    connection is dropped and the caller takes `answer_version` through SQLAlchemy, which raises
    the error as the rest of the app sees it (OperationalError -> 503).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._compiled = {query: self._compile(query) for query in (_VERSION_QUERY, _TEAM_VERSION_QUERY)}
        self._fairy: Any = None  # the pool's wrapper of the kept connection, detached
        self._pool: Any = None  # the pool it came from

    def _compile(self, query: Any) -> tuple[str, tuple[str, ...] | None, Callable[..., Any]]:
        compiled = query.compile(dialect=self.engine.dialect)
        positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        row = namedtuple("Row", [column.key for column in query.selected_columns])  # type: ignore[misc]
        return compiled.string, positions, row._make

    def _rows(self, query: Any, params: dict[str, Any]) -> list[Any]:
        sql, positions, make = self._compiled[query]
        cursor = self._fairy.dbapi_connection.cursor()
        try:
            cursor.execute(sql, tuple(params[name] for name in positions) if positions else params)
            return [make(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def version(self, *, link: str, meeting_type_id: int) -> AnswerVersion | None:
        try:
            if self._pool is not self.engine.pool:  # first read, or the engine was disposed since
                self.close()
                pool = self.engine.pool
                fairy = self.engine.raw_connection()
                fairy.detach()
                self._fairy, self._pool = fairy, pool
            return _answer_version(self._rows, link=link, meeting_type_id=meeting_type_id)
        except self._driver_error:
            self.close()
            return None

    def close(self) -> None:
        fairy, self._fairy, self._pool = self._fairy, None, None
        if fairy is not None:
            with suppress(self._driver_error):  # already gone
                fairy.close()  # detached: closes the driver's connection


class DriverStatement:
    """A Core statement run on a driver (DBAPI) cursor, compiled once for one dialect, with the bind
    and result processing SQLAlchemy itself gives its column types (UTC datetimes, booleans): the
    same values as `Connection.execute`, without its per-execution set-up (~100 µs of CPU per
    statement on SQLite, as much as running it). Rows are plain tuples in the order of the columns.
    """

    def __init__(self, query: SelectBase, dialect: Dialect) -> None:
        compiled = query.compile(dialect=dialect)
        self.sql = compiled.string
        self._positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        self._defaults: dict[str, Any] = dict(compiled.params)  # literal values bound anonymously
        self._binds = tuple(
            (name, processor)
            for bind, name in compiled.bind_names.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in query.selected_columns
        ]
        self._processed = tuple((index, p) for index, p in enumerate(processors) if p is not None)

    def rows(self, dbapi_connection: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        values = {**self._defaults, **params}
        for name, processor in self._binds:
            values[name] = processor(values[name])
        cursor = dbapi_connection.cursor()
        try:
            positions = self._positions
            cursor.execute(self.sql, tuple(values[name] for name in positions) if positions else values)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        if not self._processed:
            return [tuple(row) for row in fetched]
        rows = []
        for row in fetched:
            items = list(row)
            for index, processor in self._processed:
                items[index] = processor(items[index])
            rows.append(tuple(items))
        return rows


class DriverReads:
    """Core statements on one driver connection of `engine`, each compiled once per dialect.

    For a read that runs a few statements and holds nothing between requests: the connection is
    the caller's (a pool checkout, `engine.raw_connection()`), given back when the read ends. A
    driver error is the driver's own (`engine.dialect.loaded_dbapi.Error`): the caller takes its
    SQLAlchemy path, which raises it as the rest of the app sees it (OperationalError -> 503).
    """

    _compiled: dict[tuple[Any, str, str], DriverStatement] = {}
    _lock = threading.Lock()

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self.dbapi_connection = dbapi_connection
        self.dialect = dialect

    def rows(self, query: SelectBase, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        key = (query, self.dialect.name, self.dialect.driver)
        statement = self._compiled.get(key)
        if statement is None:
            statement = DriverStatement(query, self.dialect)
            with self._lock:
                self._compiled[key] = statement
        return statement.rows(self.dbapi_connection, params)


@dataclass(frozen=True)
class _Row:
    team_id: int | None
    active: bool
    deleted_at: datetime | None


@dataclass(frozen=True)
class _Entry:
    version: AnswerVersion
    generation: int
    computed_now: datetime
    computed_at: float
    body: bytes


class AnswerCache:
    """Serialised answers by question; bounded (least recently stored go first), thread-safe."""

    def __init__(
        self, *, ttl: float = 5.0, max_entries: int = 4096, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.monotonic = monotonic
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, *, version: AnswerVersion, generation: int, now: datetime) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if (
            entry.version != version
            or entry.generation != generation
            or not timedelta(0) <= now - entry.computed_now < timedelta(seconds=self.ttl)
            or self.monotonic() - entry.computed_at >= self.ttl
        ):
            return None
        return entry.body

    def put(self, key: Hashable, body: bytes, *, version: AnswerVersion, generation: int, now: datetime) -> None:
        if self.ttl <= 0:
            return
        entry = _Entry(
            version=version, generation=generation, computed_now=now, computed_at=self.monotonic(), body=body
        )
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

"""Keeps the funnel rollup (shared.models.funnel) up to date, one step event at a time or in bulk.

`record_step` runs in the transaction that records a step event: one upsert of the session's row
(INSERT … ON CONFLICT DO UPDATE, on SQLite ≥ 3.35 and PostgreSQL alike) that keeps the earliest
times and the highest step, so events may arrive in any order and concurrent events of one session
merge instead of colliding. `rebuild` computes the same rows from the events table in one
INSERT … SELECT, for the migration that introduces the rollup and for bulk loads (bench/).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, select, text
from sqlalchemy.orm import Session

from shared.db import dialect_name, upsert_insert
from shared.funnel import summary
from shared.models import FunnelSession, FunnelSessionMeetingType
from shared.steps.names import STEP_EVENTS

STEP_COLUMNS: tuple[str, ...] = ("step1_at", "step2_at", "step3_at", "step4_at")

_sessions = FunnelSession.__table__
_types = FunnelSessionMeetingType.__table__


def _earlier(new: Any, old: Any) -> Any:
    """The earlier of two nullable times (portable: SQLite has no LEAST, and min() does not skip NULL)."""
    return case((new.is_not(None) & (old.is_(None) | (new < old)), new), else_=old)


@functools.cache
def _upsert(dialect: str, level: int, *, returning: bool) -> Any:
    """record_step's statement for one step, built once (with bind parameters for the values):
    building it per call cost more Python than the database spends running it."""
    column = STEP_COLUMNS[level - 1]
    names = ("session_id", "agent_id", "team_id", "first_at", "first_day", "top_step", column)
    insert = upsert_insert(dialect, _sessions).values({n: bindparam(n, type_=_sessions.c[n].type) for n in names})
    new, old = insert.excluded, _sessions.c
    upsert = insert.on_conflict_do_update(
        index_elements=[old.session_id],
        set_={
            # The first agent seen stays; a later event only fills it in when it was unknown.
            "agent_id": case((old.agent_id.is_(None), new.agent_id), else_=old.agent_id),
            # Likewise the team of a team link's session (its steps 1–3 name no agent, step 4 the member).
            "team_id": case((old.team_id.is_(None), new.team_id), else_=old.team_id),
            "first_at": case((new.first_at < old.first_at, new.first_at), else_=old.first_at),
            "first_day": case((new.first_at < old.first_at, new.first_day), else_=old.first_day),
            "top_step": case((new.top_step > old.top_step, new.top_step), else_=old.top_step),
            column: _earlier(new[column], old[column]),
        },
    )
    if not returning:
        return upsert
    # The session's first day after the upsert, and before it: a subquery of the statement reads the
    # row as it was before the statement (PostgreSQL's snapshot rules), so the day a late, earlier
    # event moves the session away from is known too.
    before = _sessions.alias("before")
    previous = (
        select(before.c.first_day)
        .where(before.c.session_id == bindparam("session_id", type_=_sessions.c.session_id.type))
        .scalar_subquery()
    )
    return upsert.returning(old.first_day, previous)


def record_step(
    session: Session,
    *,
    name: str,
    session_id: str,
    occurred_at: datetime,
    agent_id: int | None,
    meeting_type_id: int | None,
    team_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Fold one step event into its session's rollup row (no-op for other event names).

    `now` (default: occurred_at, an event recorded as it happens) is the writer's clock: on
    PostgreSQL the upsert returns the session's first day before and after it, and each that is
    before `now`'s UTC date is marked dirty for the per-day summary (shared.funnel.summary) — one
    INSERT … ON CONFLICT DO NOTHING, only for a session that crossed midnight or an event recorded
    after its day (a backfill, the demo's history).
    """
    if name not in STEP_EVENTS:
        return
    level = STEP_EVENTS.index(name) + 1
    values: dict[str, Any] = {
        "session_id": session_id,
        "agent_id": agent_id,
        "team_id": team_id,
        "first_at": occurred_at,
        "first_day": occurred_at.astimezone(UTC).date(),
        "top_step": level,
        STEP_COLUMNS[level - 1]: occurred_at,
    }
    keeps_summary = summary.kept(session)
    upsert = _upsert(dialect_name(session), level, returning=keeps_summary)
    if keeps_summary:
        after_day, before_day = session.execute(upsert, values).one()
        today = (now or occurred_at).astimezone(UTC).date()
        summary.mark_dirty(session, days=[d for d in (after_day, before_day) if d is not None and d < today])
    else:
        session.execute(upsert, values)
    if meeting_type_id is not None:
        link = upsert_insert(session, _types).values(session_id=session_id, meeting_type_id=meeting_type_id)
        session.execute(link.on_conflict_do_nothing())


_STEP_NAMES = ", ".join(f"'{name}'" for name in STEP_EVENTS)
_LEVEL = " ".join(f"WHEN '{name}' THEN {index}" for index, name in enumerate(STEP_EVENTS, start=1))
_FIRSTS = ", ".join(
    f"MIN(CASE WHEN e.name = '{name}' THEN e.occurred_at END) AS {column}"
    for name, column in zip(STEP_EVENTS, STEP_COLUMNS, strict=True)
)

# The UTC day of g.first_at (SQLite stores UTC timestamps as naive text, date() reads that).
FIRST_DAY_SQL = {"postgresql": "CAST(g.first_at AT TIME ZONE 'UTC' AS DATE)", "sqlite": "date(g.first_at)"}

# The same rows record_step builds, from the events: the agent (and the team) is that of the first
# recorded step event that names one (lowest id), the times are the earliest per step.
REBUILD_SESSIONS_SQL = f"""
INSERT INTO funnel_sessions
    (session_id, agent_id, team_id, first_at, first_day, top_step, step1_at, step2_at, step3_at, step4_at)
SELECT g.session_id, a.agent_id, t.team_id, g.first_at, {{first_day}}, g.top_step,
       g.step1_at, g.step2_at, g.step3_at, g.step4_at
FROM (
    SELECT e.session_id,
           MIN(CASE WHEN e.agent_id IS NOT NULL THEN e.id END) AS agent_event_id,
           MIN(CASE WHEN e.team_id IS NOT NULL THEN e.id END) AS team_event_id,
           MIN(e.occurred_at) AS first_at,
           MAX(CASE e.name {_LEVEL} END) AS top_step,
           {_FIRSTS}
    FROM events e
    WHERE e.name IN ({_STEP_NAMES}) AND e.session_id IS NOT NULL
    GROUP BY e.session_id
) g
LEFT JOIN events a ON a.id = g.agent_event_id
LEFT JOIN events t ON t.id = g.team_event_id
"""

REBUILD_MEETING_TYPES_SQL = f"""
INSERT INTO funnel_session_meeting_types (session_id, meeting_type_id)
SELECT DISTINCT e.session_id, e.meeting_type_id
FROM events e
WHERE e.name IN ({_STEP_NAMES}) AND e.session_id IS NOT NULL AND e.meeting_type_id IS NOT NULL
"""


def rebuild(session: Session) -> None:
    """Recompute the whole rollup from the events (bulk loads, repairs) and forget the per-day summary
    built on the old rows; flushes, does not commit."""
    session.flush()
    session.execute(delete(FunnelSessionMeetingType))
    session.execute(delete(FunnelSession))
    dialect = dialect_name(session)
    session.execute(text(REBUILD_SESSIONS_SQL.format(first_day=FIRST_DAY_SQL[dialect])))
    session.execute(text(REBUILD_MEETING_TYPES_SQL))
    summary.forget_summary(session)


def main() -> None:
    """`python -m shared.funnel.rollup`: rebuild the rollup of the database in DATABASE_URL."""
    from shared.db import build_engine, build_sessionmaker, session_scope
    from shared.settings import Settings

    engine = build_engine(Settings())
    try:
        with session_scope(build_sessionmaker(engine)) as session:
            rebuild(session)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()

"""The four-step booking funnel (SPEC §4), counted from the per-session rollup.

A booking session (events.session_id, one widget attempt) *reached* step i when it has an event of
step i or of any later step. The rollup table funnel_sessions (shared.models.funnel, maintained by
shared.funnel.rollup in the same transaction as each step event) holds one row per session with the
highest step it reached and the first time of each step, so going back and forth or repeating a step
never counts twice, the funnel can only narrow, and counting is one aggregate over one narrow row per
session instead of a GROUP BY over every event (≤ 300 ms over 1,000,000 events on PostgreSQL;
bench/funnel.py). Events without a session id (e.g. a booking made outside the widget) are not part
of the funnel.

Filters select sessions:
- date range: sessions that *started* (first step event) in [start, end), counted with every step
  they reached, also after `end`. (Before the rollup, only the events inside the range were seen,
  so a session that started inside and finished after `end` stopped at its last step inside; with
  one row per session a cohort by start is what can be answered from the rollup, and it is the
  usual reading of "the funnel for June".)
- agent: the session's agent (that of its first step event naming one — a session is one widget on
  one link, so one agent).
- meeting type: a session is kept when any of its step events names that meeting type — a visitor
  who looked at "Demo" and then booked "Onboarding" counts for both, which is what "how does the
  Demo funnel convert" means for a session that started there.

Trend: each session falls in the UTC day (or ISO week, Monday first) of its first step event, so
every period is a small funnel of its own and the periods add up to the totals.
"""

from __future__ import annotations

import csv
import io
import statistics
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    case,
    cast,
    exists,
    extract,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from shared.agents.errors import MeetingTypeNotFound
from shared.agents.service import get_agent
from shared.contacts.errors import STEP_EVENTS
from shared.funnel.errors import InvalidFunnelFilter
from shared.funnel.rollup import STEP_COLUMNS
from shared.funnel.schemas import (
    GRANULARITIES,
    FunnelFilters,
    FunnelResult,
    FunnelStep,
    Granularity,
    StepDuration,
    TrendPoint,
)
from shared.models import FunnelSession, FunnelSessionMeetingType, MeetingType

# Beyond this many periods a zero-filled trend stops being a chart; then only periods with data.
MAX_FILLED_PERIODS = 1100


def _per_session(filters: FunnelFilters, *columns: Any) -> Select[Any]:
    """One row per booking session of the rollup matching the filters."""
    query = select(*columns)
    if filters.start is not None:
        query = query.where(FunnelSession.first_at >= filters.start)
    if filters.end is not None:
        query = query.where(FunnelSession.first_at < filters.end)
    if filters.agent_id is not None:
        query = query.where(FunnelSession.agent_id == filters.agent_id)
    if filters.meeting_type_id is not None:
        query = query.where(
            exists().where(
                FunnelSessionMeetingType.session_id == FunnelSession.session_id,
                FunnelSessionMeetingType.meeting_type_id == filters.meeting_type_id,
            )
        )
    return query


def _period_sql(dialect: str, column: Any, granularity: Granularity) -> ColumnElement[Any]:
    """The UTC day or week (its Monday) of a timestamp: a date on PostgreSQL, 'YYYY-MM-DD' on SQLite."""
    if dialect == "sqlite":
        # Timestamps are stored naive in UTC; '-6 days' then 'weekday 1' lands on that week's Monday.
        if granularity == "day":
            return func.date(column)
        return func.date(column, "-6 days", "weekday 1")
    if dialect == "postgresql":
        utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
        return cast(func.date_trunc(granularity, utc), Date)
    raise NotImplementedError(f"funnel periods are not written for {dialect}")


def _period_of(moment: datetime, granularity: Granularity) -> date:
    day = moment.astimezone(UTC).date()
    return day if granularity == "day" else day - timedelta(days=day.weekday())


def _check_filters(
    session: Session,
    *,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None,
    meeting_type_id: int | None,
    granularity: str,
) -> FunnelFilters:
    for label, moment in (("from", start), ("to", end)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidFunnelFilter(f"{label} must carry a UTC offset, e.g. 2026-06-01T00:00:00Z")
    if start is not None and end is not None and end <= start:
        raise InvalidFunnelFilter("to must be after from")
    if granularity not in GRANULARITIES:
        raise InvalidFunnelFilter(f"granularity must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")
    if agent_id is not None:
        get_agent(session, agent_id=agent_id)
    # Deleted meeting types stay filterable: their sessions are history.
    if meeting_type_id is not None and session.get(MeetingType, meeting_type_id) is None:
        raise MeetingTypeNotFound()
    return FunnelFilters(
        start=start.astimezone(UTC) if start else None,
        end=end.astimezone(UTC) if end else None,
        agent_id=agent_id, meeting_type_id=meeting_type_id,
        granularity="day" if granularity == "day" else "week",
    )


def _sessions(filters: FunnelFilters) -> CTE:
    """Per session: highest step reached, first step event, and the first event of each step."""
    firsts = [getattr(FunnelSession, column).label(f"t{index}") for index, column in enumerate(STEP_COLUMNS)]
    return _per_session(
        filters, FunnelSession.top_step.label("level"), FunnelSession.first_at.label("first_at"), *firsts
    ).cte("sessions")


def _pairs(sessions: CTE) -> list[tuple[Any, Any]]:
    times = [sessions.c[f"t{index}"] for index in range(len(STEP_EVENTS))]
    return list(zip(times, times[1:], strict=False))


def _counts_query(sessions: CTE, dialect: str, granularity: Granularity) -> Select[Any]:
    """THE counting query: sessions per (period, highest step reached), grouped once in the database."""
    period = _period_sql(dialect, sessions.c.first_at, granularity).label("period")
    return select(period, sessions.c.level, func.count().label("sessions")).group_by(period, sessions.c.level)


def _add_reached(reached: dict[date, list[int]], period: date | str, level: int, count: int) -> None:
    key = date.fromisoformat(period) if isinstance(period, str) else period
    counts = reached.setdefault(key, [0] * len(STEP_EVENTS))
    # A session whose highest step is `level` reached every step up to it.
    for index in range(level):
        counts[index] += count


def _run_postgresql(
    session: Session, filters: FunnelFilters
) -> tuple[dict[date, list[int]], list[tuple[float | None, int]]]:
    """Counts, trend and medians in one statement: the per-session grouping runs once.

    The CTE is referenced twice, so PostgreSQL materialises it; the median row is told apart by its
    NULL level. Enough work_mem keeps the hash of ~10^5–10^6 sessions in memory instead of spilling
    to disk, and JIT compilation costs more than it saves on a query this size.
    """
    session.execute(text("SET LOCAL work_mem = '128MB'"))
    session.execute(text("SET LOCAL jit = off"))
    sessions = _sessions(filters)
    pairs = _pairs(sessions)
    gaps = [case((later >= earlier, extract("epoch", later - earlier))) for earlier, later in pairs]
    no_float = [cast(null(), Float) for _ in gaps]
    no_count = [cast(null(), BigInteger) for _ in gaps]
    counts = _counts_query(sessions, "postgresql", filters.granularity).add_columns(*no_float, *no_count)
    medians = select(
        cast(null(), Date),
        cast(null(), Integer),
        cast(null(), BigInteger),
        *[func.percentile_cont(0.5).within_group(gap) for gap in gaps],
        *[func.count(gap) for gap in gaps],
    ).select_from(sessions)
    reached: dict[date, list[int]] = {}
    stats: list[tuple[float | None, int]] = [(None, 0) for _ in pairs]
    for row in session.execute(union_all(counts, medians)):
        if row[1] is None:
            stats = [(row[3 + i], row[3 + len(pairs) + i]) for i in range(len(pairs))]
        else:
            _add_reached(reached, row[0], row[1], row[2])
    return reached, stats


def _run_sqlite(
    session: Session, filters: FunnelFilters
) -> tuple[dict[date, list[int]], list[tuple[float | None, int]]]:
    """Counts and trend in one query; SQLite has no percentile, so the medians come from the gaps."""
    sessions = _sessions(filters)
    reached: dict[date, list[int]] = {}
    for period, level, count in session.execute(_counts_query(sessions, "sqlite", filters.granularity)):
        _add_reached(reached, period, level, count)
    pairs = _pairs(sessions)
    gaps = [
        case((later >= earlier, (func.julianday(later) - func.julianday(earlier)) * 86400.0))
        for earlier, later in pairs
    ]
    samples: list[list[float]] = [[] for _ in pairs]
    for row in session.execute(select(*gaps)):
        for index, gap in enumerate(row):
            if gap is not None:
                samples[index].append(float(gap))
    return reached, [(statistics.median(s) if s else None, len(s)) for s in samples]


def _durations(stats: list[tuple[float | None, int]]) -> list[StepDuration]:
    return [
        StepDuration(
            from_step=STEP_EVENTS[index],
            to_step=STEP_EVENTS[index + 1],
            median_seconds=None if median is None else round(float(median), 3),
            sessions=int(count),
        )
        for index, (median, count) in enumerate(stats)
    ]


def _steps(totals: list[int]) -> list[FunnelStep]:
    steps = []
    for index, (name, sessions) in enumerate(zip(STEP_EVENTS, totals, strict=True)):
        if index == 0:
            conversion = 1.0 if sessions > 0 else 0.0
            drop_off, rate = 0, 0.0
        else:
            previous = totals[index - 1]
            conversion = sessions / previous if previous else 0.0
            drop_off = previous - sessions
            rate = drop_off / previous if previous else 0.0
        steps.append(
            FunnelStep(
                name=name, sessions=sessions, conversion=round(conversion, 4), drop_off=drop_off,
                drop_off_rate=round(rate, 4),
            )
        )
    return steps


def _trend(reached: dict[date, list[int]], filters: FunnelFilters) -> list[TrendPoint]:
    step = timedelta(days=1 if filters.granularity == "day" else 7)
    first = _period_of(filters.start, filters.granularity) if filters.start else min(reached, default=None)
    last = (
        _period_of(filters.end - timedelta(microseconds=1), filters.granularity)
        if filters.end
        else max(reached, default=None)
    )
    periods = sorted(reached)
    if first is not None and last is not None and (last - first) / step < MAX_FILLED_PERIODS:
        periods = [first + step * n for n in range(int((last - first) / step) + 1)]
    zero = [0] * len(STEP_EVENTS)
    return [
        TrendPoint(period=period, sessions=dict(zip(STEP_EVENTS, reached.get(period, zero), strict=True)))
        for period in periods
    ]


def funnel(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    agent_id: int | None = None,
    meeting_type_id: int | None = None,
    granularity: str = "day",
) -> FunnelResult:
    """Sessions reaching each of the four steps, conversion and drop-off, trend and median step times.

    The events are grouped by session once, in the database (highest step reached, first time of
    each step); the counts per period and level come from one aggregate over those groups, the
    medians from the same groups (one statement on PostgreSQL, two queries on SQLite).
    InvalidFunnelFilter for naive or reversed dates and unknown granularity; AgentNotFound /
    MeetingTypeNotFound for unknown ids.
    """
    filters = _check_filters(
        session, start=start, end=end, agent_id=agent_id, meeting_type_id=meeting_type_id,
        granularity=granularity,
    )
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        reached, stats = _run_postgresql(session, filters)
    elif dialect == "sqlite":
        reached, stats = _run_sqlite(session, filters)
    else:
        raise NotImplementedError(f"the funnel is written for PostgreSQL and SQLite, not {dialect}")
    totals = [sum(counts[index] for counts in reached.values()) for index in range(len(STEP_EVENTS))]
    return FunnelResult(
        steps=_steps(totals),
        trend=_trend(reached, filters),
        median_seconds_between_steps=_durations(stats),
        filters=filters,
    )


CSV_COLUMNS = (
    "section",
    "period",
    "step",
    "sessions",
    "conversion",
    "drop_off",
    "drop_off_rate",
    "median_seconds_from_previous_step",
)


def funnel_csv(result: FunnelResult) -> str:
    """The funnel as one CSV table: a 'total' row per step, then a 'trend' row per period and step."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    medians = {d.to_step: d.median_seconds for d in result.median_seconds_between_steps}
    for step in result.steps:
        median = medians.get(step.name)
        writer.writerow(
            [
                "total", "", step.name, step.sessions, step.conversion, step.drop_off, step.drop_off_rate,
                "" if median is None else median,
            ]
        )
    for point in result.trend:
        for name, sessions in point.sessions.items():
            writer.writerow(["trend", point.period.isoformat(), name, sessions, "", "", "", ""])
    return buffer.getvalue()

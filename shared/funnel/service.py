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
- team (SPEC §15): the team of the session's link; a team session is one row, so it counts once
  whoever of the team takes the call.
- agent: the session's agent (that of its first step event naming one — a session is one widget on
  one link, so one agent).
- meeting type: a session is kept when any of its step events names that meeting type — a visitor
  who looked at "Demo" and then booked "Onboarding" counts for both, which is what "how does the
  Demo funnel convert" means for a session that started there.

Trend: each session falls in the UTC day (or ISO week, Monday first) of its first step event, so
every period is a small funnel of its own and the periods add up to the totals.

Over millions of sessions (SPEC §13: ≤ 1 s over 10,000,000 events) an aggregate of every row is
too slow whatever the indexes: on PostgreSQL, a funnel with no agent, team or meeting type filter
adds up the per-day summary of the range's whole settled days (shared.funnel.summary, which holds
the rules of which days those are and who marks them dirty) and reads only the other days' rows;
its medians stay exact (the histograms find the middle ranks' bucket, and only that bucket's rows
are read). `direct=True` reads every row, as before the summary; the tests compare the two.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    case,
    cast,
    exists,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session

from shared.agents.errors import MeetingTypeNotFound, TeamNotFound
from shared.agents.service import get_agent
from shared.db import dialect_name
from shared.funnel import summary
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
from shared.models import FunnelSession, FunnelSessionMeetingType, MeetingType, Team
from shared.models.funnel_buckets import PAIRS
from shared.steps.names import STEP_EVENTS

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
    if filters.team_id is not None:
        query = query.where(FunnelSession.team_id == filters.team_id)
    if filters.meeting_type_id is not None:
        query = query.where(
            exists().where(
                FunnelSessionMeetingType.session_id == FunnelSession.session_id,
                FunnelSessionMeetingType.meeting_type_id == filters.meeting_type_id,
            )
        )
    return query


def _narrowed(filters: FunnelFilters) -> bool:
    """Filters the per-day summary cannot answer (it has no agent, team or meeting type)."""
    return filters.agent_id is not None or filters.team_id is not None or filters.meeting_type_id is not None


def _period_of_day(day: date, granularity: Granularity) -> date:
    return day if granularity == "day" else day - timedelta(days=day.weekday())


def _period_of(moment: datetime, granularity: Granularity) -> date:
    return _period_of_day(moment.astimezone(UTC).date(), granularity)


def _check_filters(
    session: Session,
    *,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None,
    meeting_type_id: int | None,
    granularity: str,
    team_id: int | None = None,
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
    # Deleted teams stay filterable too.
    if team_id is not None and session.get(Team, team_id) is None:
        raise TeamNotFound()
    return FunnelFilters(
        start=start.astimezone(UTC) if start else None,
        end=end.astimezone(UTC) if end else None,
        agent_id=agent_id,
        meeting_type_id=meeting_type_id,
        granularity="day" if granularity == "day" else "week",
        team_id=team_id,
    )


def _gaps(dialect: str) -> list[ColumnElement[Any]]:
    """Seconds from the first event of each step to the first of the next (NULL when out of order)."""
    times = [getattr(FunnelSession, column) for column in STEP_COLUMNS]
    pairs = list(zip(times, times[1:], strict=False))
    if dialect == "postgresql":
        # date_part is double precision; EXTRACT is numeric since PostgreSQL 14 and, over a few
        # hundred thousand rows, several times slower to compute and to sort.
        return [
            case((later >= earlier, func.date_part(literal_column("'epoch'"), later - earlier)))
            for earlier, later in pairs
        ]
    # Exact on SQLite too: whole seconds and microseconds from the stored text, rather than
    # julianday's floating-point days (~50 µs of noise), so that a median halfway between two
    # milliseconds rounds alike on both databases (tests/datamove compares their answers).
    return [
        case((later >= earlier, (_sqlite_microseconds(later) - _sqlite_microseconds(earlier)) / 1_000_000.0))
        for earlier, later in pairs
    ]


def _sqlite_microseconds(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """Microseconds since the epoch of a timestamp SQLite stores as 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return cast(func.strftime("%s", column), Integer) * 1_000_000 + cast(func.substr(column, 21, 6), Integer)


def _counts(session: Session, filters: FunnelFilters) -> dict[date, list[int]]:
    """THE counting query: sessions per (UTC day of their start, highest step reached), one GROUP BY
    over the rollup; weeks are summed from days here (at most a few hundred rows)."""
    query = _per_session(filters, FunnelSession.first_day, FunnelSession.top_step, func.count()).group_by(
        FunnelSession.first_day, FunnelSession.top_step
    )
    return _reached(session.execute(query), filters.granularity)


def _reached(rows: Iterable[tuple[Any, int, int]], granularity: Granularity) -> dict[date, list[int]]:
    """Sessions reaching each step per period, from (day, highest step, sessions) rows."""
    reached: dict[date, list[int]] = {}
    for day, level, count in rows:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        counts = reached.setdefault(_period_of_day(day, granularity), [0] * len(STEP_EVENTS))
        # A session whose highest step is `level` reached every step up to it.
        for index in range(level):
            counts[index] += count
    return reached


def _medians_postgresql(session: Session, filters: FunnelFilters) -> list[tuple[float | None, int]]:
    gaps = _gaps("postgresql")
    query = _per_session(
        filters,
        *[func.percentile_cont(0.5).within_group(gap) for gap in gaps],
        *[func.count(gap) for gap in gaps],
    )
    row = session.execute(query).one()
    return [(row[i], row[len(gaps) + i]) for i in range(len(gaps))]


def _medians_sqlite(session: Session, filters: FunnelFilters) -> list[tuple[float | None, int]]:
    """SQLite has no percentile: the gaps are read and their medians taken here."""
    gaps = _gaps("sqlite")
    samples: list[list[float]] = [[] for _ in gaps]
    for row in session.execute(_per_session(filters, *gaps)):
        for index, gap in enumerate(row):
            if gap is not None:
                samples[index].append(float(gap))
    return [(statistics.median(s) if s else None, len(s)) for s in samples]


def _from_summary(
    session: Session, filters: FunnelFilters, plan: summary.SummaryPlan
) -> tuple[dict[date, list[int]], list[tuple[float | None, int]]]:
    """The counts and the exact medians from the per-day summary plus the rows read directly
    (shared.funnel.summary); the medians fall back to percentile_cont when a bucket read disagrees
    with the histograms."""
    reached = _reached(summary.counts(session, plan), filters.granularity)
    histograms = summary.histograms(session, plan)
    stats: list[tuple[float | None, int]] = []
    for pair, _, _ in PAIRS:
        found = summary.median(session, pair=pair, histogram=histograms[pair], start=filters.start, end=filters.end)
        if found is None:
            return reached, _medians_postgresql(session, filters)
        stats.append(found)
    return reached, stats


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
                name=name,
                sessions=sessions,
                conversion=round(conversion, 4),
                drop_off=drop_off,
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
    team_id: int | None = None,
    direct: bool = False,
    refresh: Callable[[], object] | None = None,
) -> FunnelResult:
    """Sessions reaching each of the four steps, conversion and drop-off, trend and median step times.

    Reads the per-session rollup: the counts per day and highest step come from one GROUP BY, the
    medians from one more aggregate over the same rows (PostgreSQL's percentile_cont; on SQLite the
    gaps are read and their medians taken in Python). On PostgreSQL, without an agent, team or
    meeting type filter, the whole settled days of the range come from the per-day summary instead
    (shared.funnel.summary; its callers refresh it first with refresh_in_own_transaction) and only
    the other days' rows are read: the same answer, exact medians included. direct=True always
    reads the rollup's rows (the reference the summary is tested against). `refresh` is called once
    the filters are checked and only when the summary will be read: the callers pass the summary's
    refresh in a unit of work of its own (summary.refresh_in_own_transaction), so a refused request
    writes nothing and an agent's funnel does not wait for it.
    InvalidFunnelFilter for naive or reversed dates and unknown granularity; AgentNotFound /
    MeetingTypeNotFound for unknown ids.
    """
    filters = _check_filters(
        session,
        start=start,
        end=end,
        agent_id=agent_id,
        meeting_type_id=meeting_type_id,
        granularity=granularity,
        team_id=team_id,
    )
    dialect = dialect_name(session)
    if dialect == "postgresql":
        # Enough work_mem to sort the gaps of ~10^5–10^6 sessions in memory; JIT compilation costs
        # more than it saves on queries this size.
        session.execute(text("SET LOCAL work_mem = '128MB'"))
        session.execute(text("SET LOCAL jit = off"))
        if direct or _narrowed(filters):
            plan = None
        else:
            if refresh is not None:
                refresh()
            plan = summary.plan(session, start=filters.start, end=filters.end)
        if plan is not None:
            reached, stats = _from_summary(session, filters, plan)
        else:
            reached, stats = _counts(session, filters), _medians_postgresql(session, filters)
    elif dialect == "sqlite":
        reached, stats = _counts(session, filters), _medians_sqlite(session, filters)
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
                "total",
                "",
                step.name,
                step.sessions,
                step.conversion,
                step.drop_off,
                step.drop_off_rate,
                "" if median is None else median,
            ]
        )
    for point in result.trend:
        for name, sessions in point.sessions.items():
            writer.writerow(["trend", point.period.isoformat(), name, sessions, "", "", "", ""])
    return buffer.getvalue()

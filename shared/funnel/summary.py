"""The funnel's per-day summary of settled days (PostgreSQL), so the unfiltered funnel need not read
every session (SPEC §13: ≤ 1 s over 10,000,000 events).

An aggregate over every row of funnel_sessions is a scan of millions of rows whatever the indexes;
what makes the whole-range answer fast is adding up pre-aggregated days. Two tables hold, per UTC
day of the sessions' start (first_day):
- funnel_day_counts(day, top_step, sessions): the counting query's GROUP BY, done once per day;
- funnel_day_gaps(day, pair, bucket, sessions): a histogram of the step-to-step gaps (pair 1..3 =
  step 1→2, 2→3, 3→4) in geometric buckets, BUCKETS_PER_DOUBLING per doubling of 1 + the gap in
  seconds. `bucket_sql` is the one expression of a row's bucket: the summary, the histogram of the
  rows read directly and the expression indexes of migration 0008 all use its text, so a row is
  always in the same bucket. The medians stay exact: the histograms say which bucket holds the
  middle rank(s), and only that bucket's rows are read (through the index) to find the value.

Which days are in the summary: every day up to funnel_summary_state.summarized_through, except those
marked in funnel_dirty_days. Only *settled* days are summarized, UTC days ≤ today − 2 (`now`'s UTC
date minus SETTLED_AFTER_DAYS): a writer marks a day dirty only when the day is before the UTC date
of its own `now` (record_step), so a transaction that took its `now` on day d and writes a session
of day d marks nothing; the grace day means such a transaction would have to stay open for more
than a whole day (or its clock be a day off) before its write could land in a summarized day
unseen. Today, yesterday, dirty days, days after summarized_through and the partial days at the
edges of a [from, to) range are read from funnel_sessions directly (ranges of first_at, indexed).

Who marks days dirty (every writer of funnel_sessions, checked by grep when this was written):
- shared.funnel.rollup.record_step: its upsert returns the session's first_day before and after;
  each that is before the UTC date of `now` is marked (a session of an old day got a step, a new
  session whose first event is old, or a late event that moved a session to an earlier day);
- shared.funnel.rollup.rebuild replaces every row: it forgets the whole summary;
- the privacy erasure and the retention sweep change events' attributes and visitor ids, never
  funnel_sessions (the funnel counts stay, SPEC §16): nothing to mark;
- deleting an agent or a team sets funnel_sessions.agent_id / team_id to NULL: the summary has
  neither dimension, nothing to mark; deleting a meeting type only touches
  funnel_session_meeting_types, which the summary does not read;
- `meetings copy-data` copies the summary with the rest from one consistent snapshot of a
  PostgreSQL source; from any other source (SQLite keeps no summary, and may hold a stale one that
  came from PostgreSQL) it leaves the summary out and the target computes it at its first funnel.

SQLite keeps no summary: its deployments are small, its RETURNING cannot show a row's value from
before the upsert (which record_step needs to mark the day a late event moves a session away
from), and the direct path answers its sizes in milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, delete, or_, select, text, true
from sqlalchemy.orm import Session, sessionmaker

from shared.db import dialect_name, session_scope
from shared.models import FunnelDayCount, FunnelDayGap, FunnelDirtyDay, FunnelSummaryState
from shared.models.funnel_buckets import PAIRS, bucket_sql, gap_sql, in_order_sql

if TYPE_CHECKING:
    from shared.outbox.contract import JobContext

logger = logging.getLogger(__name__)

# Today and yesterday are never summarized (see the module docstring).
SETTLED_AFTER_DAYS = 2

STATE_ID = 1

SUMMARY_TABLES: tuple[str, ...] = (
    "funnel_day_counts",
    "funnel_day_gaps",
    "funnel_dirty_days",
    "funnel_summary_state",
)


def settled_through(now: datetime) -> date:
    """The last day a refresh at `now` summarizes."""
    return now.astimezone(UTC).date() - timedelta(days=SETTLED_AFTER_DAYS)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _next_midnight(day: date) -> datetime:
    return midnight(day + timedelta(days=1))


def kept(session: Session) -> bool:
    """Whether this database keeps the summary (PostgreSQL)."""
    return dialect_name(session) == "postgresql"


# --- writers ---------------------------------------------------------------------------------------


def mark_dirty(session: Session, *, days: Iterable[date]) -> None:
    """The summary of these days (if any) no longer holds: read them directly until the next refresh."""
    rows = [{"day": day} for day in sorted(set(days))]
    if rows:
        statement = text("INSERT INTO funnel_dirty_days (day) VALUES (:day) ON CONFLICT DO NOTHING")
        session.execute(statement, rows)


def forget_summary(session: Session) -> None:
    """Drop the whole summary (after funnel_sessions was rebuilt); the next refresh computes it again."""
    if not kept(session):
        return
    session.flush()
    for model in (FunnelDayCount, FunnelDayGap, FunnelDirtyDay, FunnelSummaryState):
        session.execute(delete(model))


Ranges = Sequence[tuple[datetime | None, datetime | None]]


def ranges_sql(ranges: Ranges, *, prefix: str = "r") -> tuple[str, dict[str, Any]]:
    """Sessions whose first_at falls in any of these [low, high) ranges (None: unbounded), as SQL
    with its parameters: ranges of the indexed first_at, never a function of a row."""
    parts: list[str] = []
    parameters: dict[str, Any] = {}
    for n, (low, high) in enumerate(ranges):
        bounds = []
        if low is not None:
            bounds.append(f"first_at >= :{prefix}{n}_low")
            parameters[f"{prefix}{n}_low"] = low
        if high is not None:
            bounds.append(f"first_at < :{prefix}{n}_high")
            parameters[f"{prefix}{n}_high"] = high
        parts.append("(" + (" AND ".join(bounds) or "TRUE") + ")")
    return "(" + (" OR ".join(parts) or "FALSE") + ")", parameters


def _gaps_sql(where: str) -> str:
    """(day, pair, bucket, sessions) of the gaps of the sessions in `where`: one GROUP BY per pair.

    (One scan unpivoting the three pairs with a LATERAL VALUES list was 3.6 times slower at 10×.)
    """
    return " UNION ALL ".join(
        f"SELECT first_day AS day, {pair} AS pair, {bucket_sql(pair)} AS bucket, count(*) AS sessions "
        f"FROM funnel_sessions WHERE ({where}) AND {in_order_sql(pair)} GROUP BY first_day, {bucket_sql(pair)}"
        for pair, _, _ in PAIRS
    )


def refresh_summary(session: Session, *, now: datetime) -> list[date]:
    """(Re)compute the summary of every dirty or not yet summarized settled day; the days done.

    One INSERT … SELECT … GROUP BY per table over those days' sessions (ranges of first_at, one per
    dirty day and one from the day after summarized_through to today − 2). Flushes, does not commit:
    run it in a unit of work of its own (refresh_in_own_transaction) so the lock it takes is held
    only while it works.

    Concurrency (PostgreSQL, READ COMMITTED): the state row is locked first (SELECT … FOR UPDATE),
    so refreshes run one at a time, and a second one finds the first one's work done. The dirty
    marks are deleted *before* the days are read (DELETE … RETURNING), each statement with a fresh
    snapshot:
    - a writer that committed before the DELETE began: its mark is deleted, and its row is seen by
      the INSERT … SELECTs that start after the DELETE;
    - a writer that commits after the DELETE began: its row may be missed by the recomputation,
      but its mark survives: an uncommitted mark is invisible to the DELETE, so it is not deleted;
      an INSERT … ON CONFLICT DO NOTHING meeting a mark this refresh is deleting waits for this
      transaction and then inserts its own. The next refresh redoes the day; until then the answer
      reads it directly.
    Reading first and deleting after would lose the mark of a writer committing in between.
    """
    if not kept(session):
        return []
    settled = settled_through(now)
    session.flush()
    session.execute(text("SET LOCAL work_mem = '128MB'"))
    session.execute(text(f"INSERT INTO funnel_summary_state (id) VALUES ({STATE_ID}) ON CONFLICT DO NOTHING"))
    through = session.execute(
        select(FunnelSummaryState.summarized_through).where(FunnelSummaryState.id == STATE_ID).with_for_update()
    ).scalar_one()
    marked = session.scalars(
        delete(FunnelDirtyDay).where(FunnelDirtyDay.day <= settled).returning(FunnelDirtyDay.day)
    ).all()
    # Marks of days after summarized_through are dropped: those days are computed whole below.
    redo = sorted({day for day in marked if through is not None and day <= through})
    ranges: list[tuple[datetime | None, datetime | None]] = [
        (midnight(d), midnight(d + timedelta(days=1))) for d in redo
    ]
    fresh_from = None if through is None else through + timedelta(days=1)
    if fresh_from is None or fresh_from <= settled:
        ranges.append((None if fresh_from is None else midnight(fresh_from), midnight(settled + timedelta(days=1))))
    if not ranges:
        return []
    for model in (FunnelDayCount, FunnelDayGap):
        # Nothing summarized yet: whatever is there (nothing, unless the state row was lost) goes.
        stale: ColumnElement[bool] = true() if through is None else or_(model.day.in_(redo), model.day > through)
        session.execute(delete(model).where(stale))
    where, parameters = ranges_sql(ranges)
    session.execute(
        text(
            "INSERT INTO funnel_day_counts (day, top_step, sessions) SELECT first_day, top_step, count(*) "
            f"FROM funnel_sessions WHERE {where} GROUP BY first_day, top_step"
        ),
        parameters,
    )
    session.execute(text(f"INSERT INTO funnel_day_gaps (day, pair, bucket, sessions) {_gaps_sql(where)}"), parameters)
    if through is None or through < settled:
        session.execute(
            FunnelSummaryState.__table__.update()  # type: ignore[attr-defined]
            .where(FunnelSummaryState.id == STATE_ID)
            .values(summarized_through=settled)
        )
    done = set(redo)
    if fresh_from is not None:
        done.update(fresh_from + timedelta(days=n) for n in range((settled - fresh_from).days + 1))
    return sorted(done)


def refresh_in_own_transaction(factory: sessionmaker[Session], *, now: datetime) -> None:
    """refresh_summary in a unit of work of its own (the funnel's callers run it before answering)."""
    with session_scope(factory) as session:
        refresh_summary(session, now=now)


# --- the answer ------------------------------------------------------------------------------------


class SummaryPlan:
    """Which days of a [start, end) range come from the summary, and which rows are read directly."""

    def __init__(
        self, *, first: date | None, last: date, dirty: Sequence[date], start: datetime | None, end: datetime | None
    ) -> None:
        self.first, self.last = first, last
        self.dirty = sorted(d for d in dirty if (first is None or d >= first) and d <= last)
        # Direct: before the first summarized day, after the last, and the dirty days between.
        ranges: list[tuple[datetime | None, datetime | None]] = []
        if first is not None and (start is None or start < midnight(first)):
            ranges.append((start, midnight(first)))
        after = midnight(last + timedelta(days=1))
        if end is None or end > after:
            ranges.append((after, end))
        ranges += [(midnight(d), midnight(d + timedelta(days=1))) for d in self.dirty]
        self.direct_ranges = ranges

    def summary_days(self) -> tuple[str, dict[str, Any]]:
        """The summarized days of the range (a condition on `day`), as SQL with its parameters."""
        conditions = ["day <= :summary_last"]
        parameters: dict[str, Any] = {"summary_last": self.last}
        if self.first is not None:
            conditions.append("day >= :summary_first")
            parameters["summary_first"] = self.first
        if self.dirty:
            conditions.append("day <> ALL(:summary_dirty)")
            parameters["summary_dirty"] = list(self.dirty)
        return " AND ".join(conditions), parameters

    def direct_rows(self) -> tuple[str, dict[str, Any]]:
        return ranges_sql(self.direct_ranges, prefix="direct")


def plan(session: Session, *, start: datetime | None, end: datetime | None) -> SummaryPlan | None:
    """The summary's part of an unfiltered (or date-range-only) funnel; None when it has no whole day
    of the range (then the direct path is as cheap)."""
    through = session.scalar(select(FunnelSummaryState.summarized_through).where(FunnelSummaryState.id == STATE_ID))
    if through is None:
        return None
    # Whole days of the range: from the first midnight at or after start to the day before end's.
    first = None if start is None else start.date() + timedelta(days=0 if start == midnight(start.date()) else 1)
    last = through if end is None else min(through, end.date() - timedelta(days=1))
    if first is not None and first > last:
        return None
    dirty = session.scalars(select(FunnelDirtyDay.day)).all()
    return SummaryPlan(first=first, last=last, dirty=dirty, start=start, end=end)


def counts(session: Session, summary: SummaryPlan) -> list[tuple[date, int, int]]:
    """(day, top_step, sessions): the summary's days and the direct rows' days, in one statement."""
    days, day_parameters = summary.summary_days()
    where, parameters = summary.direct_rows()
    statement = text(
        f"SELECT day, top_step, sessions FROM funnel_day_counts WHERE {days} "
        "UNION ALL "
        f"SELECT first_day, top_step, count(*) FROM funnel_sessions WHERE {where} GROUP BY first_day, top_step"
    )
    rows = session.execute(statement, {**day_parameters, **parameters})
    return [(day, int(level), int(n)) for day, level, n in rows]


def histograms(session: Session, summary: SummaryPlan) -> dict[int, dict[int, int]]:
    """pair -> bucket -> sessions: the summary's days plus the direct rows, bucketed alike, in one
    statement."""
    days, day_parameters = summary.summary_days()
    where, parameters = summary.direct_rows()
    statement = text(
        f"SELECT pair, bucket, sum(sessions) FROM funnel_day_gaps WHERE {days} GROUP BY pair, bucket "
        "UNION ALL "
        f"SELECT pair, bucket, sessions FROM ({_gaps_sql(where)}) AS direct"
    )
    result: dict[int, dict[int, int]] = {pair: {} for pair, _, _ in PAIRS}
    for pair, bucket, n in session.execute(statement, {**day_parameters, **parameters}):
        per_pair = result[int(pair)]
        per_pair[int(bucket)] = per_pair.get(int(bucket), 0) + int(n)
    return result


def _bucket_gaps(
    session: Session, *, pair: int, bucket: int, start: datetime | None, end: datetime | None
) -> list[float]:
    """Every gap of one bucket among the range's sessions, in order (through the expression index)."""
    conditions = [in_order_sql(pair), f"{bucket_sql(pair)} = :bucket"]
    parameters: dict[str, Any] = {"bucket": bucket}
    if start is not None:
        conditions.append("first_at >= :start")
        parameters["start"] = start
    if end is not None:
        conditions.append("first_at < :end")
        parameters["end"] = end
    statement = text(
        f"SELECT {gap_sql(pair)} FROM funnel_sessions WHERE {' AND '.join(conditions)} ORDER BY {gap_sql(pair)}"
    )
    return [float(gap) for (gap,) in session.execute(statement, parameters)]


def median(
    session: Session,
    *,
    pair: int,
    histogram: dict[int, int],
    start: datetime | None,
    end: datetime | None,
) -> tuple[float | None, int] | None:
    """The exact median of one pair's gaps as percentile_cont(0.5) computes it, and their count.

    The middle rank(s) (one for an odd count, two for an even one) are found in the histogram, then
    only their bucket's rows are read. None when a bucket read does not hold as many rows as the
    histogram says (a write between the two reads, or a summary out of step): the caller falls back
    to the direct path.
    """
    total = sum(histogram.values())
    if total == 0:
        return None, 0
    ranks = sorted({(total - 1) // 2, total // 2})
    values: list[float] = []
    read: dict[int, list[float]] = {}
    below = 0
    wanted = iter(ranks)
    rank: int | None = next(wanted)
    for bucket in sorted(histogram):
        size = histogram[bucket]
        while rank is not None and rank < below + size:
            if bucket not in read:
                read[bucket] = _bucket_gaps(session, pair=pair, bucket=bucket, start=start, end=end)
                if len(read[bucket]) != size:
                    return None
            values.append(read[bucket][rank - below])
            rank = next(wanted, None)
        if rank is None:
            break
        below += size
    if len(values) == 1:
        return values[0], total
    low, high = values
    # percentile_cont's interpolation (float8_lerp), so the value is the same to the last bit.
    return low + (high - low) * 0.5, total


class SummaryRefresh:
    """A worker chore (meetings.jobs.worker_chores): refreshes the summary at most every
    `every` of the worker's clock, so a new settled day or a dirty one is summarized before the
    next funnel call would have to (that call refreshes too, and then finds nothing to do)."""

    def __init__(self, every: timedelta = timedelta(minutes=10)) -> None:
        self.every = every
        self.last: datetime | None = None

    def __call__(self, context: JobContext) -> None:
        now = context.clock()
        if self.last is not None and now - self.last < self.every:
            return
        try:
            refresh_in_own_transaction(context.sessionmaker, now=now)
        except Exception:
            logger.exception("funnel summary refresh failed; trying again on the next poll")
            return
        self.last = now

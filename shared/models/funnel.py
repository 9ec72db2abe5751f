"""The funnel's rollup: one row per booking session, kept up to date as its step events arrive.

Counting the funnel from raw events groups every step event by session on each request; over a
million events that is about a second on PostgreSQL. The rollup holds the result of that grouping
(highest step reached, first time of each step), maintained by an upsert in the same transaction as
each step event (shared.funnel.rollup), so the funnel aggregates one narrow row per session.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime
from shared.models.funnel_buckets import PAIRS, bucket_sql, gap_sql, in_order_sql, index_name


class FunnelSession(Base):
    """One booking session (events.session_id) of the funnel: how far it got and when."""

    __tablename__ = "funnel_sessions"
    __table_args__ = (
        Index("ix_funnel_sessions_agent_id_first_at", "agent_id", "first_at"),
        Index("ix_funnel_sessions_team_id_first_at", "team_id", "first_at"),
        # The medians' reads of one gap bucket (shared.funnel.summary), PostgreSQL only: per step
        # pair, the rows that have that gap, by bucket and then gap, with the range's first_at.
        *(
            Index(
                index_name(pair),
                text(bucket_sql(pair)),
                text(gap_sql(pair)),
                postgresql_where=text(in_order_sql(pair)),
                # Every column the bucket reads use: index-only scans (see migration 0008).
                postgresql_include=["first_at", earlier, later],
            ).ddl_if(dialect="postgresql")
            for pair, earlier, later in PAIRS
        ),
    )

    session_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The agent of the session's first recorded step event: a session is one widget on one link.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), default=None)
    # The team of that link, when it was a team's (a team session counts once, whoever takes it).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # earliest step event
    # The UTC day of first_at, stored so the trend groups by a column instead of a per-row function.
    first_day: Mapped[date] = mapped_column(Date)
    top_step: Mapped[int] = mapped_column(SmallInteger)  # 1..4, the highest step reached
    # The first event of each step (None when the session never had that step's event).
    step1_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    step2_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    step3_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    step4_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class FunnelSessionMeetingType(Base):
    """A meeting type named by any step event of the session (the meeting type filter keeps it)."""

    __tablename__ = "funnel_session_meeting_types"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("funnel_sessions.session_id", ondelete="CASCADE"), primary_key=True
    )
    meeting_type_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_types.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# --- the per-day summary of settled days (shared.funnel.summary; PostgreSQL) -------------------------


class FunnelDayCount(Base):
    """Sessions that started on a settled UTC day, per highest step reached (the counts' summary)."""

    __tablename__ = "funnel_day_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    top_step: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)


class FunnelDayGap(Base):
    """Sessions of a settled day per step pair and gap bucket (the medians' histogram).

    pair 1..3 = step 1→2, 2→3, 3→4; bucket = shared.funnel.summary's bucket of the gap in seconds,
    the one expression the summary, the direct rows and the expression indexes all use.
    """

    __tablename__ = "funnel_day_gaps"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    pair: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer)


class FunnelDirtyDay(Base):
    """A summarized day that a later write changed: read directly until the next refresh redoes it."""

    __tablename__ = "funnel_dirty_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


class FunnelSummaryState(Base):
    """One row (id 1): every day up to `summarized_through` is in the summary unless marked dirty.

    Also the lock that serialises refreshes (SELECT … FOR UPDATE of this row).
    """

    __tablename__ = "funnel_summary_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    summarized_through: Mapped[date | None] = mapped_column(Date, default=None)

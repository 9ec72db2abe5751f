from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow

JOB_PENDING = "pending"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"  # permanent: gave up or a non-retryable error; kept and shown, retry by hand
JOB_WAITING = "waiting"  # parked until something outside changes (e.g. the agent reconnects Google)

# With backoff capped at an hour (full jitter: 30 min on average), 100 attempts keep retrying for about
# two days, so Google or SMTP down for hours loses nothing; 12 gave up after one to three hours.
DEFAULT_MAX_ATTEMPTS = 100


class OutboxJob(Base):
    """Durable work that talks to the outside. Written in the same transaction as its cause."""

    __tablename__ = "outbox_jobs"
    __table_args__ = (
        Index("ix_outbox_jobs_status_next_attempt_at", "status", "next_attempt_at"),
        # The worker's claim (shared.outbox.service.claim_due_jobs) reads only these two: pending jobs
        # in due order, and running jobs by lease end. Partial, so the done history and the far-future
        # reminders cost the claim nothing but the few index pages at the due end.
        Index(
            "ix_outbox_jobs_pending_due",
            "next_attempt_at",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_outbox_jobs_running_lease",
            "locked_until",
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JOB_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_ATTEMPTS)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # A job that must happen at most once per cause carries a key (e.g. "email:agent:booking:12:created").
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True, default=None
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

"""The outbox: durable records of work that talks to the outside, written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import OutboxJob, utcnow


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
    booking_id: int | None = None,
    agent_id: int | None = None,
    run_at: datetime | None = None,
) -> OutboxJob:
    """Queue a job in the current transaction; with a dedupe_key an existing job is returned instead."""
    if dedupe_key is not None:
        existing = session.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = OutboxJob(
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        booking_id=booking_id,
        agent_id=agent_id,
        next_attempt_at=run_at or utcnow(),
    )
    session.add(job)
    session.flush()
    return job

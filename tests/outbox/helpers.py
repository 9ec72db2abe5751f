"""Small helpers for the worker tests: commit jobs, read them back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import OutboxJob
from shared.outbox.service import enqueue


def add_jobs(
    db: sessionmaker[Session],
    kind: str,
    payloads: Sequence[dict[str, Any]],
    *,
    run_at: datetime,
    max_attempts: int | None = None,
    agent_id: int | None = None,
) -> list[int]:
    """Commit one job per payload, due at `run_at`; returns their ids."""
    with session_scope(db) as session:
        jobs = [
            enqueue(session, kind=kind, payload=dict(p), run_at=run_at, agent_id=agent_id, now=run_at) for p in payloads
        ]
        if max_attempts is not None:
            for job in jobs:
                job.max_attempts = max_attempts
        return [job.id for job in jobs]


def load_jobs(db: sessionmaker[Session], ids: Sequence[int] | None = None) -> dict[int, OutboxJob]:
    with session_scope(db) as session:
        query = select(OutboxJob) if ids is None else select(OutboxJob).where(OutboxJob.id.in_(list(ids)))
        return {job.id: job for job in session.scalars(query)}


def load_job(db: sessionmaker[Session], job_id: int) -> OutboxJob:
    return load_jobs(db, [job_id])[job_id]

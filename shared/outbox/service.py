"""The outbox: durable records of work that talks to the outside, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from shared.db import upsert_insert
from shared.models import OutboxJob, utcnow

_JOBS = cast(Table, OutboxJob.__table__)


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


@cache
def _insert_jobs(dialect: str) -> Any:
    return upsert_insert(dialect, _JOBS).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_JOBS.c.id)


@dataclass(frozen=True)
class PlannedJob:
    """A job to queue with `enqueue_many` (the keyword arguments of `enqueue`, as data)."""

    kind: str
    payload: dict[str, Any]
    dedupe_key: str | None = None
    booking_id: int | None = None
    agent_id: int | None = None
    run_at: datetime | None = None


def enqueue_many(session: Session, jobs: Sequence[PlannedJob]) -> None:
    """Queue several jobs in the current transaction with one INSERT; a job whose dedupe_key is
    already queued is skipped (`ON CONFLICT (dedupe_key) DO NOTHING`), as `enqueue` would return it.

    A booking plans its emails, calendar write and webhooks at once: one round trip instead of a
    look-up and an insert per job. Nothing is returned and nothing enters the identity map.
    """
    if not jobs:
        return
    session.flush()  # jobs still pending in the session must be in the table for the conflict check
    now = utcnow()
    rows = [
        {
            "kind": job.kind,
            "payload": job.payload,
            "dedupe_key": job.dedupe_key,
            "booking_id": job.booking_id,
            "agent_id": job.agent_id,
            "next_attempt_at": job.run_at or now,
        }
        for job in jobs
    ]
    # The executemany form keeps the statement cached (rows inlined with .values(rows) would put the
    # JSON payloads in the cache key); RETURNING makes SQLAlchemy send it as one multi-row INSERT
    # ("insertmanyvalues") instead of one execution per row in a psycopg pipeline.
    session.execute(_insert_jobs(session.get_bind().dialect.name), rows)

"""The outbox queue: durable records of work that talks to the outside, and the operations on them.

Jobs are written in the caller's transaction (`enqueue`, `enqueue_many`), so a booking and the work
it sets in motion commit together. The worker (shared.outbox.worker) claims due jobs under a lease
(`claim_due_jobs`), renews the lease when it starts one (`renew_lease`) and records each outcome
only while it still holds the lease (`record_outcome`). `retry_job` and `resume_parked_jobs` put
failed or parked jobs back in the queue. None of this knows a job kind: they are opaque strings.

Claiming is safe with many workers: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` lets concurrent
workers take disjoint batches without waiting for each other; on SQLite the claim is one
`UPDATE … WHERE id IN (SELECT …) RETURNING`, which runs under the database write lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import Integer, Table, and_, bindparam, delete, literal, null, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from shared.db import dialect_name, upsert_insert
from shared.models import OutboxJob
from shared.models.outbox import JOB_FAILED, JOB_PENDING, JOB_RUNNING, JOB_WAITING
from shared.outbox.errors import JobNotFound, JobNotRetryable

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
    now: datetime,
) -> OutboxJob:
    """Queue a job in the current transaction, due at `run_at` (or `now`); with a dedupe_key an
    existing job is returned instead."""
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
        next_attempt_at=run_at or now,
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


def enqueue_many(session: Session, jobs: Sequence[PlannedJob], *, now: datetime) -> None:
    """Queue several jobs in the current transaction with one INSERT; a job whose dedupe_key is
    already queued is skipped (`ON CONFLICT (dedupe_key) DO NOTHING`), as `enqueue` would return it.
    A job without `run_at` is due at `now`.

    A booking plans its emails, calendar write and webhooks at once: one round trip instead of a
    look-up and an insert per job. Nothing is returned and nothing enters the identity map.
    """
    if not jobs:
        return
    session.flush()  # jobs still pending in the session must be in the table for the conflict check
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
    session.execute(_insert_jobs(dialect_name(session)), rows)


def drop_pending_jobs(session: Session, *, booking_id: int, kind: str) -> int:
    """Delete the booking's jobs of this kind that no worker has taken yet (e.g. reminders of a
    cancelled booking); returns how many. A job already running is left to its handler."""
    result = session.execute(
        delete(OutboxJob)
        .where(OutboxJob.booking_id == booking_id, OutboxJob.kind == kind, OutboxJob.status == JOB_PENDING)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _status_is(status: str) -> ColumnElement[bool]:
    # The status is written into the SQL, not bound: the partial indexes of the claim (WHERE status =
    # 'pending' / 'running', shared.models.outbox) can only serve a plan that sees the literal, and
    # psycopg turns repeated statements into prepared ones whose generic plan sees only `$1`.
    return OutboxJob.status == literal(status, literal_execute=True)


GAVE_UP_DEAD_WORKER = "gave up: the worker running the last attempt stopped before finishing (lease expired)"


# The claim's statements are built once and executed with these parameters: building SQLAlchemy
# statements costs more Python time than the database spends running them.
_NOW = bindparam("claim_now", type_=OutboxJob.__table__.c.next_attempt_at.type)


def _is_exhausted() -> ColumnElement[bool]:
    """Running with an expired lease and no attempt left: its worker kept dying while running it."""
    return and_(_status_is(JOB_RUNNING), OutboxJob.locked_until < _NOW, OutboxJob.attempts >= OutboxJob.max_attempts)


def _is_due() -> ColumnElement[bool]:
    """Pending and due, or running with an expired lease (its worker died) and an attempt left."""
    return or_(
        and_(_status_is(JOB_PENDING), OutboxJob.next_attempt_at <= _NOW),
        and_(_status_is(JOB_RUNNING), OutboxJob.locked_until < _NOW, OutboxJob.attempts < OutboxJob.max_attempts),
    )


def _give_up_statement() -> Update:
    # A job whose worker kept dying while running it would otherwise be re-claimed forever.
    return (
        update(OutboxJob)
        .where(_is_exhausted())
        # Parameters named apart from the claim's: on PostgreSQL both are one statement.
        .values(
            status=bindparam("gave_up_status", JOB_FAILED),
            locked_by=null(),
            locked_until=null(),
            last_error=bindparam("gave_up_error", GAVE_UP_DEAD_WORKER),
            updated_at=_NOW,
        )
        .execution_options(synchronize_session=False)
    )


@lru_cache(maxsize=4)
def _claim_statements(dialect: str) -> tuple[Update | None, Update]:
    """(the give-up UPDATE to run first, or None when it rides along; the claim), for a dialect.

    The due jobs are picked (on PostgreSQL locked, skipping those another worker is taking: FOR
    UPDATE SKIP LOCKED; SQLite has one writer at a time) and claimed by one UPDATE. The two sets are
    disjoint (exhausted jobs are not due), so on PostgreSQL the give-up rides along as a
    data-modifying WITH of the same statement: an idle poll and a claim are one round trip each.
    """
    due = (
        select(OutboxJob.id)
        .where(_is_due())
        .order_by(OutboxJob.next_attempt_at, OutboxJob.id)
        .limit(bindparam("claim_limit", type_=Integer()))
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(OutboxJob)
        .where(OutboxJob.id.in_(due.scalar_subquery()))
        .values(
            status=JOB_RUNNING,
            locked_by=bindparam("claim_worker"),
            locked_until=bindparam("claim_lease_until"),
            attempts=OutboxJob.attempts + 1,
            updated_at=_NOW,
        )
        .returning(OutboxJob.id, OutboxJob.next_attempt_at)
        .execution_options(synchronize_session=False)
    )
    if dialect == "postgresql":
        return None, claim.add_cte(_give_up_statement().returning(OutboxJob.id).cte("gave_up"))
    return _give_up_statement(), claim


def claim_due_jobs(session: Session, *, worker_id: str, now: datetime, limit: int, lease_seconds: float) -> list[int]:
    """Claim up to `limit` due jobs for this worker and return their ids, oldest due first.

    Due: pending with `next_attempt_at <= now`, or running with an expired lease (its worker died or
    stalled). Claimed jobs become running, leased to `worker_id` until now + lease, attempts + 1.
    A running job whose lease expired with no attempt left is marked failed by the same call.
    Must be the first statement of its transaction (SQLite takes the write lock with it).
    """
    give_up, claim = _claim_statements(dialect_name(session))
    if give_up is not None:
        session.execute(give_up, {"claim_now": now})
    rows = session.execute(
        claim,
        {
            "claim_now": now,
            "claim_limit": limit,
            "claim_worker": worker_id,
            "claim_lease_until": now + timedelta(seconds=lease_seconds),
        },
    ).all()
    # RETURNING gives no order: oldest due first, as the worker runs them.
    return [row.id for row in sorted(rows, key=lambda row: (row.next_attempt_at, row.id))]


def release_leases(session: Session, *, worker_id: str, job_ids: Sequence[int]) -> int:
    """Give back claimed jobs this worker has not started: pending again, the claim's attempt undone."""
    if not job_ids:
        return 0
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id.in_(list(job_ids)), OutboxJob.locked_by == worker_id, OutboxJob.status == JOB_RUNNING)
        .values(status=JOB_PENDING, locked_by=None, locked_until=None, attempts=OutboxJob.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def renew_lease(session: Session, *, job_id: int, worker_id: str, until: datetime) -> OutboxJob | None:
    """Extend this worker's lease on a running job to `until` and load it; None when the lease is gone."""
    renewed = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.locked_by == worker_id, OutboxJob.status == JOB_RUNNING)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(OutboxJob, job_id)


def record_outcome(session: Session, *, job_id: int, worker_id: str, values: dict[str, Any]) -> bool:
    """Write a job's outcome (and end its lease) only if `worker_id` still holds the lease."""
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.locked_by == worker_id, OutboxJob.status == JOB_RUNNING)
        .values(locked_by=None, locked_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def retry_job(session: Session, *, job_id: int, now: datetime) -> OutboxJob:
    """Run a failed, parked or backing-off job again as soon as a worker is free, with fresh attempts."""
    job = session.get(OutboxJob, job_id)
    if job is None:
        raise JobNotFound()
    if job.status not in (JOB_FAILED, JOB_WAITING, JOB_PENDING):
        raise JobNotRetryable(job.status)
    job.status = JOB_PENDING
    job.attempts = 0
    job.next_attempt_at = now
    job.locked_by = None
    job.locked_until = None
    session.flush()
    return job


def resume_parked_jobs(session: Session, *, agent_id: int, now: datetime) -> int:
    """Put the agent's waiting jobs (parked until e.g. Google was reconnected) back in the queue."""
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.agent_id == agent_id, OutboxJob.status == JOB_WAITING)
        .values(status=JOB_PENDING, attempts=0, next_attempt_at=now, locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def bring_forward(session: Session, *, dedupe_key: str, now: datetime) -> bool:
    """Make the pending job of this dedupe key due now (it was planned to wait); True if it was
    waiting. A job already running, done or failed is left as it is."""
    changed = session.execute(
        update(OutboxJob)
        .where(OutboxJob.dedupe_key == dedupe_key, OutboxJob.status == JOB_PENDING, OutboxJob.next_attempt_at > now)
        .values(next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(changed, "rowcount", 0))

"""The outbox's health as an operator sees it: backlog, the oldest due job, claims whose lease ran out.

Read from the database, so every process that asks (any API process answering /metrics, `meetings
doctor`) sees the same numbers for the whole deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from shared.models import OutboxJob
from shared.models.outbox import JOB_FAILED, JOB_PENDING, JOB_RUNNING, JOB_WAITING


@dataclass(frozen=True)
class KindHealth:
    """One job kind's queue: `oldest_due_seconds` is how long the longest-waiting due job has waited."""

    kind: str
    pending: int = 0
    due: int = 0
    oldest_due_seconds: float = 0.0
    stale_claimed: int = 0
    failed: int = 0
    waiting: int = 0


def outbox_health(session: Session, *, now: datetime) -> dict[str, KindHealth]:
    """Per job kind: pending jobs, due ones and the oldest due's age, stale claims, failed and parked jobs.

    A stale claim is a running job whose lease has expired: its worker died or lost the database while
    recording the outcome, and the job waits for the next claim to run it again.
    """
    due = and_(OutboxJob.status == JOB_PENDING, OutboxJob.next_attempt_at <= now)
    stale = and_(OutboxJob.status == JOB_RUNNING, OutboxJob.locked_until < now)
    rows = session.execute(
        select(
            OutboxJob.kind,
            func.count().filter(OutboxJob.status == JOB_PENDING),
            func.count().filter(due),
            func.min(OutboxJob.next_attempt_at).filter(due),
            func.count().filter(stale),
            func.count().filter(OutboxJob.status == JOB_FAILED),
            func.count().filter(OutboxJob.status == JOB_WAITING),
        )
        .where(OutboxJob.status.in_([JOB_PENDING, JOB_RUNNING, JOB_FAILED, JOB_WAITING]))
        .group_by(OutboxJob.kind)
    ).all()
    health: dict[str, KindHealth] = {}
    for kind, pending, due_count, oldest_due, stale_count, failed, waiting in rows:
        age = max(0.0, (now - oldest_due).total_seconds()) if oldest_due is not None else 0.0
        health[kind] = KindHealth(
            kind=kind,
            pending=pending,
            due=due_count,
            oldest_due_seconds=age,
            stale_claimed=stale_count,
            failed=failed,
            waiting=waiting,
        )
    return health

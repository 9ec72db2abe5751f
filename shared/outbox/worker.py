"""The outbox worker: claims due jobs under a lease, runs their handlers, records each outcome.

Delivery is at least once. A claim sets a lease (`locked_by`, `locked_until`); a worker that dies
mid-job leaves a lease that expires, and the next claim picks the job up again. An outcome is only
recorded while this worker still holds the lease, so a slow worker whose lease ran out cannot
overwrite what the worker that took over recorded. Handlers make their side effects idempotent
(deterministic Google event ids, dedupe keys), which turns at-least-once into exactly-once effects.

Claiming is safe with many workers: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` lets concurrent
workers take disjoint batches without waiting for each other; on SQLite the claim is one
`UPDATE … WHERE id IN (SELECT …) RETURNING`, which runs under the database write lock.
"""

from __future__ import annotations

import logging
import os
import random
import re
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from types import FrameType
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from shared.db import build_engine, build_sessionmaker, session_scope
from shared.models import OutboxJob, utcnow
from shared.models.outbox import JOB_DONE, JOB_FAILED, JOB_PENDING, JOB_RUNNING, JOB_WAITING
from shared.outbox.errors import JobNotFound, JobNotRetryable
from shared.outbox.handlers import JobContext, JobHandler, ParkJob, PermanentFailure, RetryLater, job_handlers
from shared.privacy.retention import DailyRetention
from shared.settings import Settings

logger = logging.getLogger("meetings.worker")

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
# Full jitter can draw ~0 s; a floor keeps a failing job from spinning within one poll.
MIN_RETRY_DELAY_SECONDS = 1.0
ERROR_TEXT_LIMIT = 2000
DEFAULT_BATCH_SIZE = 10


class JobOutcome(StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    WAITING = "waiting"
    LEASE_LOST = "lease_lost"  # another worker holds the job now; nothing was recorded


def new_worker_id() -> str:
    """Unique per process run: host, pid and a random suffix (a restarted pid is a new worker)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def _is_due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxJob.status == JOB_PENDING, OutboxJob.next_attempt_at <= now),
        and_(OutboxJob.status == JOB_RUNNING, OutboxJob.locked_until < now),
    )


def claim_due_jobs(session: Session, *, worker_id: str, now: datetime, limit: int, lease_seconds: float) -> list[int]:
    """Claim up to `limit` due jobs for this worker and return their ids, oldest due first.

    Due: pending with `next_attempt_at <= now`, or running with an expired lease (its worker died or
    stalled). Claimed jobs become running, leased to `worker_id` until now + lease, attempts + 1.
    Must be the first statement of its transaction (SQLite takes the write lock with it).
    """
    lease_until = now + timedelta(seconds=lease_seconds)
    # A job whose worker kept dying while running it would otherwise be re-claimed forever.
    session.execute(
        update(OutboxJob)
        .where(
            OutboxJob.status == JOB_RUNNING,
            OutboxJob.locked_until < now,
            OutboxJob.attempts >= OutboxJob.max_attempts,
        )
        .values(
            status=JOB_FAILED,
            locked_by=None,
            locked_until=None,
            last_error="gave up: the worker running the last attempt stopped before finishing (lease expired)",
        )
        .execution_options(synchronize_session=False)
    )
    claim = {
        "status": JOB_RUNNING,
        "locked_by": worker_id,
        "locked_until": lease_until,
        "attempts": OutboxJob.attempts + 1,
    }
    oldest_due_first = (OutboxJob.next_attempt_at, OutboxJob.id)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                select(OutboxJob.id)
                .where(_is_due(now))
                .order_by(*oldest_due_first)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(OutboxJob)
                .where(OutboxJob.id.in_(ids))
                .values(**claim)
                .execution_options(synchronize_session=False)
            )
        return ids
    due = select(OutboxJob.id).where(_is_due(now)).order_by(*oldest_due_first).limit(limit)
    rows = session.execute(
        update(OutboxJob)
        .where(OutboxJob.id.in_(due))
        .values(**claim)
        .returning(OutboxJob.id, OutboxJob.next_attempt_at)
        .execution_options(synchronize_session=False)
    ).all()
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


def retry_delay_seconds(
    attempts: int,
    *,
    rng: random.Random,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base · 2^(attempts−1))], ≥ 1 s."""
    ceiling = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    return max(MIN_RETRY_DELAY_SECONDS, rng.uniform(0, ceiling))


_CREDENTIALS_IN_URL = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@")
_BEARER = re.compile(r"(?i)\bbearer\s+[a-z0-9._~+/=-]+")
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b(access_token|refresh_token|id_token|client_secret|password|passwd|api_key|apikey|secret|token)"
    r"(['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,;}]+"
)
_GOOGLE_ACCESS_TOKEN = re.compile(r"\bya29\.[0-9A-Za-z_-]+")


def _known_secrets(settings: Settings) -> list[str]:
    values = [settings.secret_key, settings.admin_token, settings.google_client_secret or ""]
    for url in (settings.smtp_url or "", settings.database_url):
        password = urlparse(url).password
        if password:
            values.append(password)
    return [value for value in values if len(value) >= 4]


def describe_error(error: BaseException, settings: Settings) -> str:
    """What went wrong, fit to store and show: secrets removed, at most ERROR_TEXT_LIMIT characters."""
    if isinstance(error, RetryLater):
        text = error.reason
    else:
        message = str(error)
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    for secret in _known_secrets(settings):
        text = text.replace(secret, "***")
    text = _CREDENTIALS_IN_URL.sub(r"\1***@", text)
    text = _BEARER.sub("Bearer ***", text)
    text = _SECRET_ASSIGNMENT.sub(r"\1\2***", text)
    text = _GOOGLE_ACCESS_TOKEN.sub("ya29.***", text)
    if len(text) > ERROR_TEXT_LIMIT:
        text = text[: ERROR_TEXT_LIMIT - 1] + "…"
    return text


def _start(context: JobContext, job_id: int, worker_id: str) -> OutboxJob | None:
    """Renew the lease for the full lease time and load the job; None when the lease is gone."""
    now = context.clock()
    with session_scope(context.sessionmaker) as session:
        renewed = session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == job_id, OutboxJob.locked_by == worker_id, OutboxJob.status == JOB_RUNNING)
            .values(locked_until=now + timedelta(seconds=context.settings.worker_lease_seconds))
            .execution_options(synchronize_session=False)
        )
        if renewed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return session.get(OutboxJob, job_id)


def _record(context: JobContext, job_id: int, worker_id: str, values: dict[str, Any]) -> bool:
    """Write the outcome only if this worker still holds the lease."""
    with session_scope(context.sessionmaker) as session:
        result = session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == job_id, OutboxJob.locked_by == worker_id, OutboxJob.status == JOB_RUNNING)
            .values(locked_by=None, locked_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def run_job(
    context: JobContext,
    job_id: int,
    *,
    worker_id: str,
    handlers: Mapping[str, JobHandler] | None = None,
    rng: random.Random | None = None,
) -> JobOutcome:
    """Run one job claimed by `worker_id` and record its outcome in a transaction of its own.

    done on success; RetryLater or any other exception: pending again after backoff (or the delay
    the far side asked for), failed once max_attempts is reached; PermanentFailure and unknown job
    kinds: failed; ParkJob: waiting until resumed.
    """
    handlers = job_handlers() if handlers is None else handlers
    rng = rng or random.Random()
    job = _start(context, job_id, worker_id)
    if job is None:
        logger.warning("job %s: lease lost before start, skipped", job_id)
        return JobOutcome.LEASE_LOST

    outcome, values = _execute(context, job, handlers, rng)
    if not _record(context, job_id, worker_id, values):
        logger.warning("job %s (%s): lease expired while running; outcome %s not recorded", job_id, job.kind, outcome)
        return JobOutcome.LEASE_LOST
    logger.info("job %s (%s) attempt %s: %s", job_id, job.kind, job.attempts, outcome)
    return outcome


def _execute(
    context: JobContext, job: OutboxJob, handlers: Mapping[str, JobHandler], rng: random.Random
) -> tuple[JobOutcome, dict[str, Any]]:
    handler = handlers.get(job.kind)
    if handler is None:
        error = f"unknown job kind {job.kind!r}: no handler is registered for it"
        return JobOutcome.FAILED, {"status": JOB_FAILED, "last_error": error}
    try:
        handler(context, job)
    except PermanentFailure as error:
        return JobOutcome.FAILED, {"status": JOB_FAILED, "last_error": describe_error(error, context.settings)}
    except ParkJob as error:
        return JobOutcome.WAITING, {"status": JOB_WAITING, "last_error": describe_error(error, context.settings)}
    except Exception as error:
        message = describe_error(error, context.settings)
        if job.attempts >= job.max_attempts:
            return JobOutcome.FAILED, {
                "status": JOB_FAILED,
                "last_error": f"gave up after {job.attempts} attempts: {message}"[:ERROR_TEXT_LIMIT],
            }
        asked = error.delay_seconds if isinstance(error, RetryLater) else None
        delay = max(MIN_RETRY_DELAY_SECONDS, asked) if asked is not None else retry_delay_seconds(job.attempts, rng=rng)
        logger.info("job %s (%s) failed, retry in %.1f s: %s", job.id, job.kind, delay, message)
        return JobOutcome.RETRY, {
            "status": JOB_PENDING,
            "next_attempt_at": context.clock() + timedelta(seconds=delay),
            "last_error": message,
        }
    return JobOutcome.DONE, {"status": JOB_DONE, "done_at": context.clock(), "last_error": None}


def retry_job(session: Session, *, job_id: int, now: datetime | None = None) -> OutboxJob:
    """Run a failed, parked or backing-off job again as soon as a worker is free, with fresh attempts."""
    job = session.get(OutboxJob, job_id)
    if job is None:
        raise JobNotFound()
    if job.status not in (JOB_FAILED, JOB_WAITING, JOB_PENDING):
        raise JobNotRetryable(job.status)
    job.status = JOB_PENDING
    job.attempts = 0
    job.next_attempt_at = now or utcnow()
    job.locked_by = None
    job.locked_until = None
    session.flush()
    return job


def resume_parked_jobs(session: Session, *, agent_id: int, now: datetime | None = None) -> int:
    """Put the agent's waiting jobs (parked until e.g. Google was reconnected) back in the queue."""
    result = session.execute(
        update(OutboxJob)
        .where(OutboxJob.agent_id == agent_id, OutboxJob.status == JOB_WAITING)
        .values(status=JOB_PENDING, attempts=0, next_attempt_at=now or utcnow(), locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


class _StopOnSignals:
    """SIGTERM/SIGINT ask the loop to stop after the job in flight; a second signal acts as usual."""

    def __init__(self, stop_event: threading.Event) -> None:
        self.stop_event = stop_event
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _StopOnSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: finishing the job in flight, then stopping", signum)
        self.stop_event.set()
        signal.signal(signum, self.previous.get(signum, signal.SIG_DFL))

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def run_worker(
    settings: Settings,
    *,
    once: bool = False,
    stop_event: threading.Event | None = None,
    handlers: Mapping[str, JobHandler] | None = None,
    worker_id: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Claim and run jobs until stopped; with `once`, until no job is due. Returns how many ran.

    Stops gracefully on SIGTERM/SIGINT (when run in the main thread) or when `stop_event` is set:
    the job in flight finishes and is recorded, the rest of the claimed batch is released.
    """
    stop_event = stop_event or threading.Event()
    worker_id = worker_id or new_worker_id()
    handlers = job_handlers() if handlers is None else handlers
    engine = build_engine(settings, pool_size=2, max_overflow=4)
    factory: sessionmaker[Session] = build_sessionmaker(engine)
    context = JobContext(settings=settings, sessionmaker=factory, clock=clock)
    rng = random.Random()
    ran = 0
    retention = DailyRetention(settings, factory, clock)
    logger.info("worker %s started (kinds: %s)", worker_id, ", ".join(sorted(handlers)) or "none")
    try:
        with _StopOnSignals(stop_event):
            if on_ready is not None:
                on_ready()
            while not stop_event.is_set():
                retention.tick()
                try:
                    with session_scope(factory) as session:
                        claimed = claim_due_jobs(
                            session,
                            worker_id=worker_id,
                            now=clock(),
                            limit=batch_size,
                            lease_seconds=settings.worker_lease_seconds,
                        )
                except SQLAlchemyError:
                    if once:
                        raise
                    logger.exception("claiming jobs failed; trying again after the poll interval")
                    stop_event.wait(settings.worker_poll_seconds)
                    continue
                ran += _run_claimed(context, claimed, worker_id, handlers, rng, stop_event)
                if not claimed:
                    if once:
                        break
                    stop_event.wait(settings.worker_poll_seconds)
    finally:
        engine.dispose()
        logger.info("worker %s stopped after %s jobs", worker_id, ran)
    return ran


def _run_claimed(
    context: JobContext,
    claimed: list[int],
    worker_id: str,
    handlers: Mapping[str, JobHandler],
    rng: random.Random,
    stop_event: threading.Event,
) -> int:
    ran = 0
    for index, job_id in enumerate(claimed):
        if stop_event.is_set():
            with session_scope(context.sessionmaker) as session:
                released = release_leases(session, worker_id=worker_id, job_ids=claimed[index:])
            logger.info("released %s claimed jobs that had not started", released)
            break
        try:
            run_job(context, job_id, worker_id=worker_id, handlers=handlers, rng=rng)
        except SQLAlchemyError:
            # The lease expires and another attempt follows; the worker itself keeps going.
            logger.exception("job %s: recording its outcome failed", job_id)
        ran += 1
    return ran

"""The outbox worker: the run loop that claims due jobs under a lease, runs their handlers, records each outcome.

It is handed the map of job kinds to handlers (`handlers`); it imports no channel. The queue
operations it uses (claim, renew, record, release) live in shared.outbox.service.

Delivery is at least once. A claim sets a lease (`locked_by`, `locked_until`); a worker that dies
mid-job leaves a lease that expires, and the next claim picks the job up again. An outcome is only
recorded while this worker still holds the lease, so a slow worker whose lease ran out cannot
overwrite what the worker that took over recorded. Handlers make their side effects idempotent
(deterministic Google event ids, dedupe keys), which turns at-least-once into exactly-once effects.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from types import FrameType
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shared.db import build_engine, build_sessionmaker, session_scope
from shared.models import OutboxJob, utcnow
from shared.models.outbox import JOB_DONE, JOB_FAILED, JOB_PENDING, JOB_WAITING
from shared.observability.context import job_log_context
from shared.observability.metrics import OUTBOX_ATTEMPTS, OUTBOX_FAILURES, OUTBOX_RECORD_RETRIES
from shared.outbox.contract import JobContext, JobHandler, ParkJob, PermanentFailure, RetryLater
from shared.outbox.service import claim_due_jobs, record_outcome, release_leases, renew_lease
from shared.redaction import known_secrets, redact_error
from shared.settings import Settings

logger = logging.getLogger("meetings.worker")

# Periodic work beside the jobs, run before each poll; it must return quickly and not raise.
Chore = Callable[[JobContext], None]

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 3600.0
# Full jitter can draw ~0 s; a floor keeps a failing job from spinning within one poll.
MIN_RETRY_DELAY_SECONDS = 1.0
ERROR_TEXT_LIMIT = 2000
DEFAULT_BATCH_SIZE = 10
# How long a worker keeps trying to record an outcome through a database blip (a restart, a
# failover) before it leaves the job to its lease.
RECORD_RETRY_SECONDS = 5.0


class JobOutcome(StrEnum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    WAITING = "waiting"
    LEASE_LOST = "lease_lost"  # another worker holds the job now; nothing was recorded


def new_worker_id() -> str:
    """Unique per process run: host, pid and a random suffix (a restarted pid is a new worker)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


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


def describe_error(error: BaseException, settings: Settings) -> str:
    """What went wrong, fit to store and show: secrets removed, at most ERROR_TEXT_LIMIT characters."""
    if isinstance(error, RetryLater):
        text = error.reason
    else:
        message = str(error)
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    text = redact_error(text, secrets=known_secrets(settings))
    if len(text) > ERROR_TEXT_LIMIT:
        text = text[: ERROR_TEXT_LIMIT - 1] + "…"
    return text


def _start(context: JobContext, job_id: int, worker_id: str) -> OutboxJob | None:
    """Renew the lease for the full lease time and load the job; None when the lease is gone."""
    until = context.clock() + timedelta(seconds=context.settings.worker_lease_seconds)
    with session_scope(context.sessionmaker) as session:
        return renew_lease(session, job_id=job_id, worker_id=worker_id, until=until)


def _record(context: JobContext, job_id: int, worker_id: str, values: dict[str, Any]) -> bool:
    """Write the outcome only if this worker still holds the lease."""
    with session_scope(context.sessionmaker) as session:
        return record_outcome(session, job_id=job_id, worker_id=worker_id, values=values)


def _record_through_blips(
    context: JobContext,
    job_id: int,
    worker_id: str,
    values: dict[str, Any],
    *,
    within: float = RECORD_RETRY_SECONDS,
) -> bool:
    """`_record`, tried again over a new connection while the database is briefly away.

    Without this a job whose side effect already happened (an email sent) stayed claimed until its
    lease ran out, and ran again minutes late. Each try is the same lease-guarded UPDATE, so a try
    whose COMMIT did land (only its answer was lost) makes the next one record nothing.
    """
    deadline = time.monotonic() + within
    pause = 0.2
    while True:
        try:
            return _record(context, job_id, worker_id, values)
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() + pause > deadline:
                raise
            OUTBOX_RECORD_RETRIES.inc()
            logger.warning("job %s: recording its outcome failed (%s); trying again", job_id, type(error).__name__)
            # The pool dropped the broken connection (and pre-ping tests the others): the next try connects anew.
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def run_job(
    context: JobContext,
    job_id: int,
    *,
    worker_id: str,
    handlers: Mapping[str, JobHandler],
    rng: random.Random | None = None,
) -> JobOutcome:
    """Run one job claimed by `worker_id` and record its outcome in a transaction of its own.

    done on success; RetryLater or any other exception: pending again after backoff (or the delay
    the far side asked for), failed once max_attempts is reached; PermanentFailure and unknown job
    kinds: failed; ParkJob: waiting until resumed.
    """
    rng = rng or random.Random()
    job = _start(context, job_id, worker_id)
    if job is None:
        logger.warning("job %s: lease lost before start, skipped", job_id)
        return JobOutcome.LEASE_LOST

    with job_log_context(job_id=job_id, agent_id=job.agent_id):
        outcome, values = _execute(context, job, handlers, rng)
        if not _record_through_blips(context, job_id, worker_id, values):
            logger.warning(
                "job %s (%s): lease expired while running; outcome %s not recorded", job_id, job.kind, outcome
            )
            OUTBOX_ATTEMPTS.labels(kind=job.kind, outcome=JobOutcome.LEASE_LOST.value).inc()
            return JobOutcome.LEASE_LOST
        logger.info("job %s (%s) attempt %s: %s", job_id, job.kind, job.attempts, outcome)
        OUTBOX_ATTEMPTS.labels(kind=job.kind, outcome=outcome.value).inc()
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
        OUTBOX_FAILURES.labels(kind=job.kind, error=type(error).__name__).inc()
        return JobOutcome.FAILED, {"status": JOB_FAILED, "last_error": describe_error(error, context.settings)}
    except ParkJob as error:
        return JobOutcome.WAITING, {"status": JOB_WAITING, "last_error": describe_error(error, context.settings)}
    except Exception as error:
        OUTBOX_FAILURES.labels(kind=job.kind, error=type(error).__name__).inc()
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
    handlers: Mapping[str, JobHandler],
    once: bool = False,
    stop_event: threading.Event | None = None,
    worker_id: str | None = None,
    clock: Callable[[], datetime] = utcnow,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_ready: Callable[[], None] | None = None,
    chores: Sequence[Chore] = (),
) -> int:
    """Claim and run jobs until stopped; with `once`, until no job is due. Returns how many ran.

    `handlers` maps each job kind this worker runs to its handler; a job of any other kind fails.
    `chores` run before each poll with the worker's context (e.g. the daily retention sweep); like
    the handlers they are handed in by the edge, so the loop knows none of them.

    Stops gracefully on SIGTERM/SIGINT (when run in the main thread) or when `stop_event` is set:
    the job in flight finishes and is recorded, the rest of the claimed batch is released.
    """
    stop_event = stop_event or threading.Event()
    worker_id = worker_id or new_worker_id()
    engine = build_engine(settings, pool_size=2, max_overflow=4)
    factory: sessionmaker[Session] = build_sessionmaker(engine)
    context = JobContext(settings=settings, sessionmaker=factory, clock=clock)
    rng = random.Random()
    ran = 0
    logger.info("worker %s started (kinds: %s)", worker_id, ", ".join(sorted(handlers)) or "none")
    try:
        with _StopOnSignals(stop_event):
            if on_ready is not None:
                on_ready()
            while not stop_event.is_set():
                for chore in chores:
                    chore(context)
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

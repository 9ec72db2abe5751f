"""The outbox worker against a real SQLite database, with job kinds registered by the tests."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from statistics import mean

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import OutboxJob
from shared.outbox.contract import JobContext, JobHandler, ParkJob, PermanentFailure, RetryLater
from shared.outbox.errors import JobNotFound, JobNotRetryable
from shared.outbox.service import claim_due_jobs, resume_parked_jobs, retry_job
from shared.outbox.worker import BACKOFF_BASE_SECONDS, JobOutcome, run_job, run_worker
from shared.settings import Settings
from tests.conftest import Clock
from tests.factories import committed_agent
from tests.outbox.helpers import add_jobs, load_job, load_jobs

WORKER = "worker-a"


def claim(context: JobContext, worker_id: str = WORKER, limit: int = 100) -> list[int]:
    with session_scope(context.sessionmaker) as session:
        return claim_due_jobs(
            session,
            worker_id=worker_id,
            now=context.clock(),
            limit=limit,
            lease_seconds=context.settings.worker_lease_seconds,
        )


def claim_and_run(
    context: JobContext, handlers: dict[str, JobHandler], rng: random.Random | None = None
) -> list[JobOutcome]:
    return [run_job(context, job_id, worker_id=WORKER, handlers=handlers, rng=rng) for job_id in claim(context)]


def always(error: Exception) -> JobHandler:
    def handler(_context: JobContext, _job: OutboxJob) -> None:
        raise error

    return handler


def test_a_successful_job_is_done_once(context: JobContext, db: sessionmaker[Session], clock: Clock) -> None:
    seen: list[dict[str, object]] = []
    [job_id] = add_jobs(db, "test.ok", [{"booking_id": 7}], run_at=clock.now)

    assert claim_and_run(context, {"test.ok": lambda _c, job: seen.append(job.payload)}) == [JobOutcome.DONE]

    job = load_job(db, job_id)
    assert (job.status, job.attempts, job.done_at, job.last_error) == ("done", 1, clock.now, None)
    assert (job.locked_by, job.locked_until) == (None, None)
    assert seen == [{"booking_id": 7}]
    assert claim(context) == []  # done jobs are never claimed again


def test_claims_only_due_jobs_oldest_first_up_to_the_limit(
    context: JobContext, db: sessionmaker[Session], clock: Clock
) -> None:
    later = add_jobs(db, "test.ok", [{}], run_at=clock.now + timedelta(minutes=1))
    newer = add_jobs(db, "test.ok", [{}], run_at=clock.now - timedelta(minutes=1))
    older = add_jobs(db, "test.ok", [{}], run_at=clock.now - timedelta(minutes=2))

    assert claim(context, limit=1) == older
    assert claim(context, worker_id="worker-b") == newer
    clock.advance(timedelta(minutes=1))  # within the 2-minute lease of the jobs claimed above
    assert claim(context) == later
    job = load_job(db, later[0])
    assert (job.status, job.locked_by, job.attempts) == ("running", WORKER, 1)
    assert job.locked_until == clock.now + timedelta(seconds=context.settings.worker_lease_seconds)

    clock.advance(timedelta(seconds=context.settings.worker_lease_seconds + 1))
    assert sorted(claim(context, worker_id="worker-c")) == sorted(older + newer + later)  # leases expired
    assert {j.attempts for j in load_jobs(db).values()} == {2}


def test_transient_failures_back_off_exponentially_with_jitter(
    context: JobContext, db: sessionmaker[Session], clock: Clock
) -> None:
    ids = add_jobs(db, "test.flaky", [{}] * 60, run_at=clock.now)
    handlers = {"test.flaky": always(RuntimeError("calendar said 503"))}
    rng = random.Random(7)
    delays_by_attempt: dict[int, list[float]] = {}
    for attempt in range(1, 6):
        assert set(claim_and_run(context, handlers, rng)) == {JobOutcome.RETRY}
        jobs = load_jobs(db, ids).values()
        assert {(j.status, j.attempts, j.last_error) for j in jobs} == {
            ("pending", attempt, "RuntimeError: calendar said 503")
        }
        delays = [(j.next_attempt_at - clock.now).total_seconds() for j in jobs]
        ceiling = BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
        assert all(1.0 <= d <= ceiling for d in delays), (attempt, min(delays), max(delays))
        assert len(set(delays)) > 40  # jittered, not in lockstep (a few sit on the 1 s floor)
        delays_by_attempt[attempt] = delays
        clock.advance(timedelta(hours=2))

    assert mean(delays_by_attempt[5]) > 5 * mean(delays_by_attempt[1])
    assert max(delays_by_attempt[5]) > BACKOFF_BASE_SECONDS * 8


def test_retry_later_honours_the_delay_the_far_side_asked_for(
    context: JobContext, db: sessionmaker[Session], clock: Clock
) -> None:
    [job_id] = add_jobs(db, "test.limited", [{}], run_at=clock.now)
    handlers = {"test.limited": always(RetryLater("Google said 429 rateLimitExceeded", delay_seconds=90))}

    assert claim_and_run(context, handlers) == [JobOutcome.RETRY]

    job = load_job(db, job_id)
    assert job.next_attempt_at == clock.now + timedelta(seconds=90)
    assert job.last_error == "Google said 429 rateLimitExceeded"
    clock.advance(timedelta(seconds=89))
    assert claim(context) == []
    clock.advance(timedelta(seconds=1))
    assert claim(context) == [job_id]


def test_errors_are_stored_without_secrets_and_truncated(
    context: JobContext, db: sessionmaker[Session], clock: Clock, settings: Settings
) -> None:
    leaky = (
        f"SMTP smtp://mailer:hunter2@mail.example.com:587 refused; Authorization: Bearer ya29.a0AfB_secret "
        f"refresh_token=1//0gabc client_secret: 'shh' key {settings.secret_key} " + "x" * 5000
    )
    [job_id] = add_jobs(db, "test.leaky", [{}], run_at=clock.now)

    claim_and_run(context, {"test.leaky": always(RuntimeError(leaky))})

    error = load_job(db, job_id).last_error or ""
    assert len(error) <= 2000
    for secret in ("hunter2", "ya29.a0AfB_secret", "1//0gabc", "shh", settings.secret_key):
        assert secret not in error
    assert error.startswith("RuntimeError: SMTP smtp://mailer:***@mail.example.com:587 refused")


def test_gives_up_after_max_attempts(context: JobContext, db: sessionmaker[Session], clock: Clock) -> None:
    [job_id] = add_jobs(db, "test.flaky", [{}], run_at=clock.now, max_attempts=3)
    handlers = {"test.flaky": always(ConnectionError("smtp down"))}

    outcomes = []
    for _ in range(3):
        outcomes += claim_and_run(context, handlers)
        clock.advance(timedelta(hours=2))

    assert outcomes == [JobOutcome.RETRY, JobOutcome.RETRY, JobOutcome.FAILED]
    job = load_job(db, job_id)
    assert (job.status, job.attempts) == ("failed", 3)
    assert job.last_error == "gave up after 3 attempts: ConnectionError: smtp down"
    assert claim(context) == []


def test_permanent_failure_fails_at_once(context: JobContext, db: sessionmaker[Session], clock: Clock) -> None:
    [job_id] = add_jobs(db, "test.bad", [{}], run_at=clock.now)

    outcomes = claim_and_run(context, {"test.bad": always(PermanentFailure("Google answered 400: invalid attendee"))})

    assert outcomes == [JobOutcome.FAILED]
    job = load_job(db, job_id)
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.last_error == "PermanentFailure: Google answered 400: invalid attendee"


def test_unknown_kind_fails_with_a_clear_error(context: JobContext, db: sessionmaker[Session], clock: Clock) -> None:
    [job_id] = add_jobs(db, "calendar.teleport", [{}], run_at=clock.now)

    assert claim_and_run(context, {}) == [JobOutcome.FAILED]

    job = load_job(db, job_id)
    assert job.status == "failed"
    assert job.last_error == "unknown job kind 'calendar.teleport': no handler is registered for it"


def test_parked_jobs_wait_until_the_agent_reconnects(
    context: JobContext, db: sessionmaker[Session], clock: Clock
) -> None:
    agent_id, _, _ = committed_agent(db)
    other_agent_id, _, _ = committed_agent(db)
    [job_id] = add_jobs(db, "test.calendar", [{}], run_at=clock.now, agent_id=agent_id)
    [other_id] = add_jobs(db, "test.calendar", [{}], run_at=clock.now, agent_id=other_agent_id)
    connected = False

    def insert_event(_context: JobContext, _job: OutboxJob) -> None:
        if not connected:
            raise ParkJob("Google access was revoked; the agent must reconnect")

    handlers: dict[str, JobHandler] = {"test.calendar": insert_event}
    assert claim_and_run(context, handlers) == [JobOutcome.WAITING, JobOutcome.WAITING]
    job = load_job(db, job_id)
    assert (job.status, job.last_error) == ("waiting", "ParkJob: Google access was revoked; the agent must reconnect")
    clock.advance(timedelta(days=3))
    assert claim(context) == []

    connected = True
    with session_scope(db) as session:
        assert resume_parked_jobs(session, agent_id=agent_id, now=clock.now) == 1

    assert claim_and_run(context, handlers) == [JobOutcome.DONE]
    assert load_job(db, job_id).status == "done"
    assert load_job(db, other_id).status == "waiting"


def test_retry_job_runs_a_failed_job_again(context: JobContext, db: sessionmaker[Session], clock: Clock) -> None:
    [job_id] = add_jobs(db, "test.bad", [{}], run_at=clock.now)
    claim_and_run(context, {"test.bad": always(PermanentFailure("template missing"))})

    with session_scope(db) as session:
        job = retry_job(session, job_id=job_id, now=clock.now)
        assert (job.status, job.attempts) == ("pending", 0)

    assert claim_and_run(context, {"test.bad": lambda _c, _j: None}) == [JobOutcome.DONE]
    with session_scope(db) as session, pytest.raises(JobNotRetryable):
        retry_job(session, job_id=job_id, now=clock.now)
    with session_scope(db) as session, pytest.raises(JobNotFound):
        retry_job(session, job_id=987654, now=clock.now)


def test_a_worker_whose_lease_expired_cannot_overwrite_the_outcome(
    context: JobContext, db: sessionmaker[Session], clock: Clock
) -> None:
    [job_id] = add_jobs(db, "test.slow", [{}], run_at=clock.now)
    runs: list[str] = []

    def slow_then_fail(_context: JobContext, job: OutboxJob) -> None:
        if job.attempts == 1:
            runs.append("a")
            # While worker A is stuck, its lease runs out and worker B takes the job and finishes it.
            clock.advance(timedelta(seconds=context.settings.worker_lease_seconds + 1))
            assert claim(context, worker_id="worker-b") == [job_id]
            assert run_job(context, job_id, worker_id="worker-b", handlers=handlers) == JobOutcome.DONE
            raise TimeoutError("A finally gives up")
        runs.append("b")

    handlers: dict[str, JobHandler] = {"test.slow": slow_then_fail}
    assert claim_and_run(context, handlers) == [JobOutcome.LEASE_LOST]

    job = load_job(db, job_id)
    assert (job.status, job.attempts, job.last_error) == ("done", 2, None)
    assert runs == ["a", "b"]


def test_stopping_finishes_the_job_in_flight_and_releases_the_rest(
    settings: Settings, db: sessionmaker[Session], clock: Clock
) -> None:
    ids = add_jobs(db, "test.ok", [{}, {}, {}], run_at=clock.now)
    stop = threading.Event()
    ran: list[int] = []

    def first_job_asks_to_stop(_context: JobContext, job: OutboxJob) -> None:
        stop.set()  # as SIGTERM would, while this job is in flight
        ran.append(job.id)

    count = run_worker(settings, stop_event=stop, handlers={"test.ok": first_job_asks_to_stop}, clock=clock)

    assert count == 1
    assert ran == [ids[0]]
    jobs = load_jobs(db, ids)
    assert jobs[ids[0]].status == "done"
    assert [(jobs[i].status, jobs[i].attempts, jobs[i].locked_by) for i in ids[1:]] == [("pending", 0, None)] * 2


def test_run_worker_once_drains_due_jobs_and_returns(
    settings: Settings, db: sessionmaker[Session], clock: Clock
) -> None:
    due = add_jobs(db, "test.ok", [{}] * 25, run_at=clock.now)
    future = add_jobs(db, "test.ok", [{}], run_at=clock.now + timedelta(hours=1))

    assert run_worker(settings, once=True, handlers={"test.ok": lambda _c, _j: None}, clock=clock) == 25

    jobs = load_jobs(db)
    assert {jobs[i].status for i in due} == {"done"}
    assert jobs[future[0]].status == "pending"


def test_a_job_whose_worker_keeps_dying_fails_after_max_attempts(
    context: JobContext, db: sessionmaker[Session], clock: Clock
) -> None:
    [job_id] = add_jobs(db, "test.crashes_worker", [{}], run_at=clock.now, max_attempts=2)
    lease = timedelta(seconds=context.settings.worker_lease_seconds + 1)

    assert claim(context) == [job_id]  # the worker dies: nothing is recorded
    clock.advance(lease)
    assert claim(context, worker_id="worker-b") == [job_id]  # and dies again
    clock.advance(lease)
    assert claim(context, worker_id="worker-c") == []

    job = load_job(db, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("failed", 2, None)
    assert "lease expired" in (job.last_error or "")

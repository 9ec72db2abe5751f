"""Google failing while the outbox writes events: retried with backoff, never lost, never duplicated."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.calendars.google.handlers import upsert_booking_event
from shared.db import session_scope
from shared.models import OutboxJob
from shared.models.outbox import JOB_DONE, JOB_FAILED, JOB_RUNNING
from shared.outbox.contract import JobContext
from shared.outbox.service import claim_due_jobs
from shared.outbox.worker import run_worker
from shared.settings import Settings
from tests.conftest import Clock
from tests.google.conftest import ConnectedAgent, book, calendar_jobs, catch_up, drain
from tests.google.standin import Fault, GoogleStandIn


def test_5xx_429_and_403_rate_limits_are_retried_until_exactly_one_event_exists(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    standin.fail_next("events.insert", 500, 503, 429, "rateLimitExceeded", "userRateLimitExceeded")
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")

    rounds = drain(google_settings, worker_clock, db)

    assert rounds == 6  # one attempt per round: each failure was put back with a backoff delay
    (job,) = calendar_jobs(db)
    assert (job.status, job.attempts, job.last_error) == (JOB_DONE, 6, None)
    assert len(standin.calls_to("events.insert")) == 6
    assert len(standin.live_events()) == 1


def test_an_insert_whose_answer_was_lost_is_not_duplicated_by_the_retry(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    # Google created the event, then the answer was a 503: the retry is answered 409.
    standin.fail_next("events.insert", Fault(503, "backendError", after_effect=True))
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")

    drain(google_settings, worker_clock, db)

    assert len(standin.calls_to("events.insert")) == 2
    assert len(standin.live_events()) == 1
    assert [job.status for job in calendar_jobs(db)] == [JOB_DONE]


def test_other_4xx_fail_the_job_with_the_reason_recorded(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    standin.fail_next("events.insert", Fault(403, "forbiddenForNonOrganizer"))
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")

    assert drain(google_settings, worker_clock, db) == 1

    (job,) = calendar_jobs(db)
    assert job.status == JOB_FAILED
    assert job.attempts == 1
    assert job.last_error is not None
    assert "events.insert: HTTP 403 forbiddenForNonOrganizer" in job.last_error
    assert standin.live_events() == {}


def test_a_worker_killed_between_the_google_call_and_recording_the_job_still_leaves_one_event(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    (job,) = calendar_jobs(db)
    context = JobContext(settings=google_settings, sessionmaker=db, clock=worker_clock)

    # Worker 1 claims the job and calls Google, then dies before recording the outcome.
    catch_up(worker_clock)
    with session_scope(db) as session:
        claimed = claim_due_jobs(
            session,
            worker_id="doomed-worker",
            now=worker_clock(),
            limit=100,
            lease_seconds=google_settings.worker_lease_seconds,
        )
    assert job.id in claimed
    with session_scope(db) as session:
        running = session.get(OutboxJob, job.id)
        assert running is not None
    upsert_booking_event(context, running)
    assert len(standin.live_events()) == 1
    (still_running,) = calendar_jobs(db)
    assert still_running.status == JOB_RUNNING

    # Its lease runs out; another worker takes the job over and runs it again.
    worker_clock.advance(timedelta(seconds=google_settings.worker_lease_seconds + 1))
    run_worker(google_settings, handlers=job_handlers(), once=True, clock=worker_clock)

    (finished,) = calendar_jobs(db)
    assert (finished.status, finished.attempts) == (JOB_DONE, 2)
    assert len(standin.calls_to("events.insert")) == 2  # the second one answered 409: success
    assert len(standin.live_events()) == 1

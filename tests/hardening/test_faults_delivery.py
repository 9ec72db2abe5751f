"""Faults: a worker dying at any point of a job, Google and SMTP down for hours — nothing lost, nothing twice.

Real components throughout: the booking API, the real worker (`run_worker`), an aiosmtpd server and
the Google stand-in on 127.0.0.1. "Hours" pass on the worker's own clock, as in tests/google.
Crash points covered elsewhere (tests/notifications: after the SMTP send; tests/google: after the
events.insert) are repeated here in one table with the points before them. `FAULTS_INJECTED` counts
every injected fault (a killed worker, a refused connection, an error answer).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.db import session_scope
from shared.models import EmailMessage, OutboxJob, utcnow
from shared.models.outbox import JOB_DONE, JOB_FAILED
from shared.notifications.planning import EMAIL_JOB
from shared.outbox.contract import JobContext, JobHandler
from shared.outbox.service import claim_due_jobs
from shared.outbox.worker import run_job, run_worker
from shared.settings import Settings
from tests.conftest import Clock
from tests.factories import committed_agent
from tests.google.conftest import (  # noqa: F401 - fixtures used by name
    ConnectedAgent,
    book,
    connect,
    google_settings,
    standin,
    worker_clock,
)
from tests.google.standin import GoogleStandIn
from tests.notifications.conftest import free_port, start_smtp, tls_files, with_settings  # noqa: F401
from widget_api.app import create_app

FAULTS_INJECTED: list[int] = [0]
LEASE_SECONDS = 60


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so the worker records nothing."""


def all_jobs(db: sessionmaker[Session]) -> list[OutboxJob]:
    with session_scope(db) as session:
        return list(session.scalars(select(OutboxJob).order_by(OutboxJob.id)))


# --- a worker killed at any point of an email job ---------------------------------------------------


def die_after_claim(real: JobHandler) -> JobHandler | None:
    return None  # the worker claimed the jobs and died before starting any


def die_before_handler(real: JobHandler) -> JobHandler:
    def handler(context: JobContext, job: OutboxJob) -> None:
        raise WorkerKilled  # started (attempt counted), killed before a byte went out

    return handler


def die_after_handler(real: JobHandler) -> JobHandler:
    def handler(context: JobContext, job: OutboxJob) -> None:
        real(context, job)
        raise WorkerKilled  # sent, killed before the outcome was recorded

    return handler


@pytest.mark.parametrize("crash", [die_after_claim, die_before_handler, die_after_handler], ids=lambda f: f.__name__)
def test_a_worker_killed_at_any_point_of_a_job_delivers_exactly_once_after_restart(
    client: TestClient,
    db: sessionmaker[Session],
    settings: Settings,
    start_smtp: Any,  # noqa: F811
    crash: Callable[[JobHandler], JobHandler | None],
) -> None:
    server = start_smtp("plain")
    mail_settings = with_settings(settings, smtp_url=server.url, worker_lease_seconds=LEASE_SECONDS)
    _, link, types = committed_agent(db, email="grace@example.com")
    booked = client.post(f"/api/v1/links/{link}/bookings", json=form(types["Demo"], "2026-06-02T09:00:00+02:00"))
    assert booked.status_code == 201

    context = JobContext(settings=mail_settings, sessionmaker=db, clock=utcnow)
    with session_scope(db) as session:
        job_ids = claim_due_jobs(session, worker_id="doomed", now=utcnow(), limit=10, lease_seconds=LEASE_SECONDS)
    email_jobs = [j.id for j in all_jobs(db) if j.kind == EMAIL_JOB]
    assert sorted(email_jobs) == sorted(job_ids)
    handler = crash(job_handlers()[EMAIL_JOB])
    for job_id in job_ids:
        FAULTS_INJECTED[0] += 1
        if handler is not None:
            with contextlib.suppress(WorkerKilled):
                run_job(context, job_id, worker_id="doomed", handlers={EMAIL_JOB: handler}, rng=random.Random(1))
    expected_before = len(job_ids) if crash is die_after_handler else 0
    assert len(server.recorder.received) == expected_before

    # A new worker process takes over once the dead worker's lease has expired.
    run_worker(
        mail_settings, handlers=job_handlers(), once=True, clock=lambda: utcnow() + timedelta(seconds=LEASE_SECONDS + 1)
    )
    assert len(server.recorder.received) == len(job_ids)
    assert sorted(m.rcpt_tos[0] for m in server.recorder.received) == sorted(["grace@example.com", "ada@example.com"])
    assert {j.status for j in all_jobs(db)} == {JOB_DONE}


def form(type_id: int, start: str, email: str = "ada@example.com") -> dict[str, Any]:
    return {
        "meeting_type_id": type_id,
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Engines",
        "email": email,
        "description": "Pricing",
    }


# --- Google and SMTP down for hours ------------------------------------------------------------------

HOURS_DOWN = 8


@pytest.fixture
def smtp_port() -> int:
    return free_port()  # nothing listens here until SMTP "comes back"


@pytest.fixture
def outage_settings(google_settings: Settings, smtp_port: int) -> Settings:  # noqa: F811
    return google_settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{smtp_port}", "worker_lease_seconds": LEASE_SECONDS}
    )


def test_google_and_smtp_down_for_hours_bookings_work_and_everything_is_delivered_after(
    settings: Settings,
    outage_settings: Settings,
    clock: Clock,
    db: sessionmaker[Session],
    standin: GoogleStandIn,
    start_smtp: Any,
    smtp_port: int,
    worker_clock: Clock,
    admin_headers: dict[str, str],  # noqa: F811
) -> None:
    with TestClient(create_app(outage_settings, clock=clock)) as client:
        agent_id, link, types = committed_agent(db, email="grace@example.com")
        connect(client, agent_id, admin_headers)
        agent = ConnectedAgent(agent_id, link, types)

        # Google answers 503 to everything for the whole outage; SMTP refuses connections.
        google_faults = 500
        for endpoint in ("freebusy.query", "events.insert", "events.get", "events.patch", "events.delete", "token"):
            standin.fail_next(endpoint, *([503] * google_faults))
        bookings = [
            book(client, agent, start)
            for start in ("2026-06-02T09:00:00+02:00", "2026-06-02T10:00:00+02:00", "2026-06-03T11:00:00+02:00")
        ]
        assert len(bookings) == 3  # each answered 201 while Google and SMTP were down

    worker_runs = 0
    for _ in range(HOURS_DOWN * 6):  # every 10 minutes of the outage
        worker_clock.now = max(worker_clock.now, utcnow())
        run_worker(outage_settings, handlers=job_handlers(), once=True, clock=worker_clock)
        worker_runs += 1
        worker_clock.advance(timedelta(minutes=10))
    jobs = all_jobs(db)
    assert JOB_FAILED not in {j.status for j in jobs}, [(j.kind, j.status, j.attempts) for j in jobs]
    assert not standin.live_events()
    failed_attempts = sum(j.attempts for j in jobs)
    FAULTS_INJECTED[0] += failed_attempts

    # Both come back.
    for queue in standin.faults.values():
        FAULTS_INJECTED[0] += google_faults - len(queue)
        queue.clear()
    server = start_smtp("plain", port=smtp_port)
    for _ in range(12):
        worker_clock.advance(timedelta(hours=1))
        run_worker(outage_settings, handlers=job_handlers(), once=True, clock=worker_clock)
        if all(j.status == JOB_DONE for j in all_jobs(db)):
            break
    jobs = all_jobs(db)
    assert {j.status for j in jobs} == {JOB_DONE}, [(j.kind, j.status, j.attempts, j.last_error) for j in jobs]
    assert len(standin.live_events()) == 3
    assert len(server.recorder.received) == 2 * 3  # agent + invitee, once each
    with session_scope(db) as session:
        assert all(row.sent_at is not None for row in session.scalars(select(EmailMessage)))
    print(f"\noutage: {worker_runs} worker runs while down, {failed_attempts} failed job attempts")


def test_zz_report_faults_injected() -> None:
    print(f"\nfaults injected: {FAULTS_INJECTED[0]}")

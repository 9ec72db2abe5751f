"""A database blip must not stall the outbox (issue 17, item 6).

The job's side effect has happened when the database goes away for about a second; the worker
keeps trying to record the outcome over a new connection, so the job is done at once instead of
staying claimed until its lease runs out (and running again). PostgreSQL only: the fault is the
server refusing connections and dropping every backend, as in a `pg_ctl restart -m fast`.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import OutboxJob, utcnow
from shared.models.outbox import JOB_DONE
from shared.observability.metrics import OUTBOX_RECORD_RETRIES
from shared.outbox.contract import JobContext
from shared.outbox.worker import JobOutcome, claim_due_jobs, run_job
from shared.settings import Settings
from tests.outbox.helpers import add_jobs, load_job
from tests.pg import ThrowawayPostgres

BLIP_SECONDS = 1.0


def test_an_outcome_is_recorded_through_a_one_second_database_outage(
    request: pytest.FixtureRequest, settings: Settings, db: sessionmaker[Session]
) -> None:
    if settings.is_sqlite:
        pytest.skip("the outage is a PostgreSQL server dropping its connections")
    cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
    name = settings.database_url.rsplit("/", 1)[1]
    (job_id,) = add_jobs(db, "email.sent_then_blip", [{"n": 1}], run_at=utcnow())
    with session_scope(db) as session:
        assert claim_due_jobs(session, worker_id="w-1", now=utcnow(), limit=5, lease_seconds=120) == [job_id]
    sent: list[int] = []

    def restore() -> None:
        cluster.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    def send_then_lose_the_database(_context: JobContext, job: OutboxJob) -> None:
        sent.append(job.id)  # the email went out
        cluster.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        cluster.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        threading.Timer(BLIP_SECONDS, restore).start()

    retries_before = OUTBOX_RECORD_RETRIES._value.get()
    context = JobContext(settings=settings, sessionmaker=db, clock=utcnow)
    try:
        outcome = run_job(
            context, job_id, worker_id="w-1", handlers={"email.sent_then_blip": send_then_lose_the_database}
        )
    finally:
        restore()
    assert outcome is JobOutcome.DONE
    assert sent == [job_id]
    job = load_job(db, job_id)
    assert job.status == JOB_DONE
    assert job.locked_by is None  # not left claimed for its lease to run out
    assert OUTBOX_RECORD_RETRIES._value.get() > retries_before

"""Real worker processes (`python -m tests.outbox.worker_process`) sharing one database.

Side effects are counted in a file, so "exactly once" is checked where it matters: outside the
database the worker writes to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from shared.models import utcnow
from shared.outbox.worker import run_worker
from shared.settings import Settings
from tests.outbox.helpers import add_jobs, load_job, load_jobs
from tests.outbox.job_kinds import TEST_HANDLERS, side_effects

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def worker_process(
    settings: Settings, log: Path, *args: str, lease_seconds: int = 120
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEETINGS_ENV": "test",
        "MEETINGS_WORKER_LEASE_SECONDS": str(lease_seconds),
        "MEETINGS_WORKER_POLL_SECONDS": "0.1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.outbox.worker_process", *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()


def test_a_job_of_a_killed_worker_runs_again_after_its_lease_expires_and_only_once(
    settings: Settings, db: sessionmaker[Session], tmp_path: Path
) -> None:
    effects, started = tmp_path / "effects", tmp_path / "started"
    [job_id] = add_jobs(
        db, "test.hang_on_first_attempt", [{"file": str(effects), "started": str(started)}], run_at=utcnow()
    )

    with worker_process(settings, tmp_path / "a.log", lease_seconds=3) as first:
        wait_until(started.exists, timeout=30, what="the first worker to start the job")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()

    job = load_job(db, job_id)
    assert (job.status, job.attempts) == ("running", 1)
    assert job.locked_until is not None
    # While the dead worker's lease lasts, nobody else takes the job…
    lease_end = job.locked_until
    assert run_worker(settings, once=True, handlers=TEST_HANDLERS, clock=lambda: lease_end - timedelta(seconds=1)) == 0

    # …once it has expired, another worker process does, and the effect happens exactly once.
    wait_until(lambda: utcnow() > lease_end, timeout=10, what="the lease to expire")
    log = tmp_path / "b.log"
    with worker_process(settings, log, "--once") as second:
        assert second.wait(timeout=30) == 0, log.read_text()

    job = load_job(db, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("done", 2, None)
    assert side_effects(effects) == [(job_id, second.pid)]


def test_two_worker_processes_run_each_of_200_jobs_exactly_once(
    settings: Settings, db: sessionmaker[Session], tmp_path: Path
) -> None:
    effects, go = tmp_path / "effects", tmp_path / "go"
    ids = add_jobs(db, "test.record", [{"file": str(effects), "sleep": 0.005}] * 200, run_at=utcnow())
    ready = [tmp_path / "ready-1", tmp_path / "ready-2"]

    with (
        worker_process(settings, tmp_path / "1.log", "--once", "--ready", str(ready[0]), "--go", str(go)) as one,
        worker_process(settings, tmp_path / "2.log", "--once", "--ready", str(ready[1]), "--go", str(go)) as two,
    ):
        wait_until(lambda: all(r.exists() for r in ready), timeout=30, what="both workers to be ready")
        go.touch()  # both start claiming at the same moment
        assert one.wait(timeout=120) == 0, (tmp_path / "1.log").read_text()
        assert two.wait(timeout=120) == 0, (tmp_path / "2.log").read_text()

    runs = side_effects(effects)
    per_job = Counter(job_id for job_id, _ in runs)
    assert sorted(per_job) == sorted(ids)
    assert set(per_job.values()) == {1}
    per_worker = Counter(pid for _, pid in runs)
    assert set(per_worker) == {one.pid, two.pid}, per_worker  # both really took part
    jobs = load_jobs(db, ids)
    assert {(j.status, j.attempts) for j in jobs.values()} == {("done", 1)}


def test_sigterm_finishes_the_job_in_flight_and_releases_the_claimed_rest(
    settings: Settings, db: sessionmaker[Session], tmp_path: Path
) -> None:
    effects, started = tmp_path / "effects", tmp_path / "started"
    now = utcnow()
    slow_payload = {"file": str(effects), "started": str(started), "sleep": 1.0}
    [slow] = add_jobs(db, "test.record", [slow_payload], run_at=now - timedelta(seconds=2))
    rest = add_jobs(db, "test.record", [{"file": str(effects)}] * 3, run_at=now - timedelta(seconds=1))
    log = tmp_path / "worker.log"

    with worker_process(settings, log) as worker:
        wait_until(started.exists, timeout=30, what="the slow job to start")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, log.read_text()

    assert side_effects(effects) == [(slow, worker.pid)]
    jobs = load_jobs(db, [slow, *rest])
    assert jobs[slow].status == "done"
    assert [(jobs[i].status, jobs[i].attempts, jobs[i].locked_by) for i in rest] == [("pending", 0, None)] * 3

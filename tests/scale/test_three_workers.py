"""Three real worker processes against 1,000 outbox jobs on PostgreSQL: each job runs exactly once.

Claiming is `SELECT … FOR UPDATE SKIP LOCKED` (shared/outbox/worker.py). Side effects are counted
in a file outside the database. A worker killed mid-job, and SIGTERM finishing the job in flight,
are covered on both databases by tests/outbox/test_worker_processes.py.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.models import utcnow
from shared.settings import Settings
from tests.outbox.helpers import add_jobs, load_jobs
from tests.outbox.job_kinds import side_effects
from tests.outbox.test_worker_processes import wait_until, worker_process


@pytest.mark.slow
def test_three_worker_processes_run_each_of_1000_jobs_exactly_once(
    pg_settings: Settings, pg_db: sessionmaker[Session], tmp_path: Path
) -> None:
    effects, go = tmp_path / "effects", tmp_path / "go"
    ids = add_jobs(pg_db, "test.record", [{"file": str(effects)}] * 1000, run_at=utcnow())
    ready = [tmp_path / f"ready-{n}" for n in range(3)]
    logs = [tmp_path / f"{n}.log" for n in range(3)]

    with (
        worker_process(pg_settings, logs[0], "--once", "--ready", str(ready[0]), "--go", str(go)) as one,
        worker_process(pg_settings, logs[1], "--once", "--ready", str(ready[1]), "--go", str(go)) as two,
        worker_process(pg_settings, logs[2], "--once", "--ready", str(ready[2]), "--go", str(go)) as three,
    ):
        wait_until(lambda: all(r.exists() for r in ready), timeout=30, what="the workers to be ready")
        go.touch()  # all three start claiming at the same moment
        for process, log in zip((one, two, three), logs, strict=True):
            assert process.wait(timeout=180) == 0, log.read_text()

    runs = side_effects(effects)
    per_job = Counter(job_id for job_id, _ in runs)
    assert sorted(per_job) == sorted(ids)
    assert set(per_job.values()) == {1}
    per_worker = Counter(pid for _, pid in runs)
    assert set(per_worker) == {one.pid, two.pid, three.pid}, per_worker  # all three really took part
    jobs = load_jobs(pg_db, ids)
    assert {(j.status, j.attempts) for j in jobs.values()} == {("done", 1)}

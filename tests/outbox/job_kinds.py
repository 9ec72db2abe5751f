"""Job kinds for the worker tests, passed to run_worker/run_job through their `handlers` argument.

Side effects are lines appended to a file named in the payload ("<job id> <pid>"), so a test can
count how often each job really ran, across processes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from shared.models import OutboxJob
from shared.outbox.contract import JobContext, JobHandler


def _append(path: str, line: str) -> None:
    # One small O_APPEND write per line: lines from concurrent processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def record(_context: JobContext, job: OutboxJob) -> None:
    """Optionally announce the start, optionally take a while, then record the side effect."""
    if "started" in job.payload:
        Path(job.payload["started"]).touch()
    time.sleep(float(job.payload.get("sleep", 0)))
    _append(job.payload["file"], f"{job.id} {os.getpid()}\n")


def hang_on_first_attempt(context: JobContext, job: OutboxJob) -> None:
    """The first attempt announces itself and hangs (the test kills its worker); later ones succeed."""
    if job.attempts == 1:
        Path(job.payload["started"]).touch()
        time.sleep(120)
    _append(job.payload["file"], f"{job.id} {os.getpid()}\n")


TEST_HANDLERS: dict[str, JobHandler] = {
    "test.record": record,
    "test.hang_on_first_attempt": hang_on_first_attempt,
}


def side_effects(path: Path) -> list[tuple[int, int]]:
    """(job id, pid) of every recorded side effect."""
    if not path.exists():
        return []
    return [(int(a), int(b)) for a, b in (line.split() for line in path.read_text().splitlines())]

"""The contract between the worker and the channels that run outbox jobs.

The queue knows job kinds only as the `Mapping[str, JobHandler]` it is handed (assembled at the
edge: `meetings.jobs.job_handlers`); channels import this contract, never the reverse.

A handler runs one claimed job outside any transaction of the worker's: it opens its own
`session_scope(context.sessionmaker)` for what it reads and writes. It returns normally when the job
is done, or raises one of the exceptions below. Any other exception counts as a transient failure
and is retried with exponential backoff and jitter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from shared.models import OutboxJob
from shared.settings import Settings


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    sessionmaker: sessionmaker[Session]
    clock: Callable[[], datetime]


class RetryLater(Exception):  # noqa: N818 - a signal, not an error
    """Transient failure: retry with backoff (or after `delay_seconds` when the far side said so)."""

    def __init__(self, reason: str, *, delay_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay_seconds = delay_seconds


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. a 4xx other than rate limits): recorded as failed and shown."""


class ParkJob(Exception):  # noqa: N818 - a signal, not an error
    """Cannot run until something outside changes (e.g. the agent reconnects Google): status waiting."""


JobHandler = Callable[[JobContext, OutboxJob], None]

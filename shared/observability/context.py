"""What a log line is about, beyond the request: the outbox job being run and its agent.

Context variables, so every record logged while a job runs (handlers, Google, SMTP) carries them;
`shared.observability.logs` puts them on each record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

JOB_ID: ContextVar[int | None] = ContextVar("meetings_job_id", default=None)
AGENT_ID: ContextVar[int | None] = ContextVar("meetings_agent_id", default=None)


@contextmanager
def job_log_context(*, job_id: int, agent_id: int | None = None) -> Iterator[None]:
    job_token = JOB_ID.set(job_id)
    agent_token = AGENT_ID.set(agent_id)
    try:
        yield
    finally:
        AGENT_ID.reset(agent_token)
        JOB_ID.reset(job_token)

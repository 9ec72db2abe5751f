"""The daily retention sweep (MEETINGS_RETAIN_CONTACT_DAYS), run by the workers.

Several workers may run at once: the first to insert the day's marker row into the outbox (a done
job with the dedupe key `privacy.retention:<day>`) runs the sweep in that same transaction; the
others hit the unique key and skip. The marker also shows in the dashboard's outbox when it ran.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.models import OutboxJob
from shared.models.outbox import JOB_DONE
from shared.outbox.contract import JobContext
from shared.privacy.service import erase_past_retention
from shared.settings import Settings

logger = logging.getLogger(__name__)

RETENTION_JOB = "privacy.retention"


def run_retention_once(session: Session, *, now: datetime, days: int) -> int | None:
    """The day's sweep if no worker ran it yet today: how many contacts were erased (None: already ran)."""
    try:
        with session.begin_nested():
            session.add(
                OutboxJob(
                    kind=RETENTION_JOB,
                    payload={"days": days},
                    status=JOB_DONE,
                    dedupe_key=f"{RETENTION_JOB}:{now.date().isoformat()}",
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                    done_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        return None
    return erase_past_retention(session, now=now, days=days)


class DailyRetention:
    """A worker chore (`run_worker(chores=[DailyRetention(settings)])`): sweeps at most once per UTC
    day per process, with the worker's sessions and clock."""

    def __init__(self, settings: Settings) -> None:
        self.days = settings.retain_contact_days
        self.last_day: str | None = None

    def __call__(self, context: JobContext) -> None:
        if not self.days:
            return
        now = context.clock()
        day = now.date().isoformat()
        if day == self.last_day:
            return
        try:
            with session_scope(context.sessionmaker) as session:
                erased = run_retention_once(session, now=now, days=self.days)
        except Exception:
            logger.exception("retention sweep failed; trying again on the next poll")
            return
        self.last_day = day
        if erased is not None:
            logger.info("retention: erased %s contacts with no booking or event for %s days", erased, self.days)

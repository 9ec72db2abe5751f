"""The job kinds this deployment runs, each mapped to its channel's handler, and the worker's chores.

Assembled here, at the edge, and handed to the worker: the queue (shared.outbox) knows no channel,
and each channel (notifications, calendars) knows only the outbox contract it implements.
"""

from __future__ import annotations

from shared.calendars.google.handlers import google_job_handlers
from shared.funnel.summary import SummaryRefresh
from shared.notifications.jobs import notification_handlers
from shared.outbox.contract import JobHandler
from shared.outbox.worker import Chore
from shared.privacy.retention import DailyRetention
from shared.settings import Settings


def job_handlers() -> dict[str, JobHandler]:
    """Every job kind the worker runs: the notification channels' and Google Calendar's."""
    return {**notification_handlers(), **google_job_handlers()}


def worker_chores(settings: Settings) -> list[Chore]:
    """What a worker does beside its jobs: the daily contact-retention sweep (off unless
    MEETINGS_RETAIN_CONTACT_DAYS is set) and the funnel's per-day summary refresh."""
    return [DailyRetention(settings), SummaryRefresh()]

"""Prometheus metrics of every process (prometheus-client), and the scrape-time gauges read from the database.

Counters and histograms live in this process; when `PROMETHEUS_MULTIPROC_DIR` is set (what `meetings
serve` does for its API processes) prometheus-client writes them to files there and a scrape sums
every process's files (its multiprocess mode). The outbox gauges are not counted by anyone: they are
read from the database when scraped (`OutboxCollector`), so they describe the whole deployment and
are never summed twice.

The names SPEC §17 fixes are contract: `meetings_http_requests_total{route,method,status}`,
`meetings_bookings_total{outcome}`, `meetings_step_events_total{name}`,
`meetings_outbox_pending_jobs{kind}`, `meetings_outbox_oldest_due_seconds`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import Pool

from shared.db import session_scope
from shared.models import CalendarConnection
from shared.models.calendar import STATUS_NEEDS_RECONNECT
from shared.models.contact import Event
from shared.observability.multiproc import MULTIPROC_ENV
from shared.observability.queue import outbox_health

STEP_EVENTS = frozenset({"calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step", "calendar_4th_step_submit"})
# Timeline event -> meetings_bookings_total outcome.
BOOKING_OUTCOMES = {
    "booking_confirmed": "created",
    "booking_cancelled": "cancelled",
    "booking_rescheduled": "rescheduled",
}

HTTP_REQUESTS = Counter(
    "meetings_http_requests",
    "HTTP requests answered, by route template (never the raw path), method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "meetings_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BOOKINGS = Counter(
    "meetings_bookings",
    "Bookings created, cancelled, rescheduled (counted when committed) or refused.",
    ["outcome"],
)
BOOKING_REFUSALS = Counter(
    "meetings_booking_refusals",
    "Booking and reschedule requests refused, by reason (slot_unavailable, invalid, not_found, rate_limited).",
    ["reason"],
)
STEP_EVENTS_TOTAL = Counter("meetings_step_events", "Funnel step events recorded (committed), by name.", ["name"])
RATE_LIMIT_REFUSALS = Counter(
    "meetings_rate_limit_refusals", "Requests refused with 429 by the rate limits, by route template.", ["route"]
)
OUTBOX_ATTEMPTS = Counter(
    "meetings_outbox_job_attempts",
    "Outbox job attempts run by workers, by kind and outcome (done, retry, failed, waiting, lease_lost).",
    ["kind", "outcome"],
)
OUTBOX_FAILURES = Counter(
    "meetings_outbox_job_failures", "Outbox job attempts that raised, by kind and error class.", ["kind", "error"]
)
OUTBOX_RECORD_RETRIES = Counter(
    "meetings_outbox_record_retries",
    "Times a worker retried recording a job's outcome after a database error.",
)
GOOGLE_CALLS = Counter(
    "meetings_google_calls",
    "Google Calendar API calls, by method and status (HTTP code or error).",
    ["method", "status"],
)
SMTP_SENDS = Counter("meetings_smtp_sends", "Messages handed to the SMTP server, by result (sent, error).", ["result"])
WEBHOOK_DELIVERIES = Counter(
    "meetings_webhook_deliveries", "Webhook delivery attempts, by HTTP status (or 'error').", ["status"]
)
DB_POOL_IN_USE = Gauge(
    "meetings_db_pool_connections_in_use",
    "Database connections checked out of this process's pools (summed over live processes).",
    multiprocess_mode="livesum",
)


def _pool_checkout(*_args: Any) -> None:
    DB_POOL_IN_USE.inc()


def _pool_checkin(*_args: Any) -> None:
    DB_POOL_IN_USE.dec()


_COMMITTED_KEY = "meetings_metrics_events"
_installed = threading.Lock()
_hooks_installed = False


def _collect_new_events(session: Session, _context: Any) -> None:
    names = [obj.name for obj in session.new if isinstance(obj, Event)]
    if names:
        session.info.setdefault(_COMMITTED_KEY, []).extend(names)


def _count_committed(session: Session) -> None:
    for name in session.info.pop(_COMMITTED_KEY, ()):
        if name in STEP_EVENTS:
            STEP_EVENTS_TOTAL.labels(name=name).inc()
        outcome = BOOKING_OUTCOMES.get(name)
        if outcome is not None:
            BOOKINGS.labels(outcome=outcome).inc()


def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_COMMITTED_KEY, None)


def install_metric_hooks() -> None:
    """Count committed bookings and step events from the timeline rows every session writes, and the
    database connections in use. Idempotent; the API installs it when metrics are enabled.

    Counting at commit (not where the service runs) means a booking rolled back is never counted.
    """
    global _hooks_installed
    with _installed:
        if _hooks_installed:
            return
        event.listen(Session, "after_flush", _collect_new_events)
        event.listen(Session, "after_commit", _count_committed)
        event.listen(Session, "after_rollback", _forget_rolled_back)
        event.listen(Pool, "checkout", _pool_checkout)
        event.listen(Pool, "checkin", _pool_checkin)
        _hooks_installed = True


class OutboxCollector(Collector):
    """Gauges read from the database at scrape time: the backlog and its age per kind, stale claims,
    failed and parked jobs, and agents whose Google connection needs reconnecting."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "meetings_outbox_pending_jobs", "Outbox jobs waiting to run, by kind.", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "meetings_outbox_oldest_due_seconds",
            "How long the oldest due outbox job has waited past its due time, by kind (0 when none is due).",
            labels=["kind"],
        )
        stale = GaugeMetricFamily(
            "meetings_outbox_stale_claimed_jobs",
            "Jobs claimed by a worker whose lease has expired (the worker died or could not record the outcome).",
            labels=["kind"],
        )
        failed = GaugeMetricFamily("meetings_outbox_failed_jobs", "Outbox jobs that gave up, by kind.", labels=["kind"])
        waiting = GaugeMetricFamily(
            "meetings_outbox_waiting_jobs", "Outbox jobs parked until e.g. Google is reconnected.", labels=["kind"]
        )
        reconnect = GaugeMetricFamily(
            "meetings_calendar_connections_needing_reconnect",
            "Agents whose Google Calendar connection must be reconnected.",
        )
        up = GaugeMetricFamily("meetings_database_up", "1 when the scrape could read the database, else 0.")
        try:
            with session_scope(self.sessions) as session:
                health = outbox_health(session, now=self.clock())
                needing = reconnect_needed_count(session)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for kind, item in sorted(health.items()):
            pending.add_metric([kind], item.pending)
            oldest.add_metric([kind], item.oldest_due_seconds)
            stale.add_metric([kind], item.stale_claimed)
            failed.add_metric([kind], item.failed)
            waiting.add_metric([kind], item.waiting)
        reconnect.add_metric([], needing)
        yield from (up, pending, oldest, stale, failed, waiting, reconnect)


def reconnect_needed_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(CalendarConnection)
            .where(CalendarConnection.status == STATUS_NEEDS_RECONNECT)
        )
        or 0
    )


def render_metrics(*, database: Collector | None = None) -> bytes:
    """The Prometheus text of this process (or, in multiprocess mode, of every process) plus `database`."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        text = generate_latest(REGISTRY)
    if database is not None:
        own = CollectorRegistry()
        own.register(database)
        text += generate_latest(own)
    return text

"""What a booking change sets in motion outside: planned as outbox jobs in the booking's transaction.

Each channel decides for itself whether it has work (an agent without a calendar gets no calendar
job, no configured webhook means no delivery); all of it is written before the booking commits, so
nothing is lost and the booking never waits on Google or SMTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy.orm import Session

from shared.calendars.google.planning import calendar_sync_jobs
from shared.models import Booking, WebhookEndpoint
from shared.notifications.planning import booking_email_jobs
from shared.notifications.webhooks import booking_webhook_jobs
from shared.outbox.service import PlannedJob, enqueue_many

BookingChange = Literal["created", "cancelled", "rescheduled"]


def booking_effect_jobs(
    session: Session,
    *,
    booking: Booking,
    event: BookingChange,
    webhook_endpoints: Sequence[WebhookEndpoint] | None = None,
) -> list[PlannedJob]:
    """The emails, the calendar write and the webhooks of a change, in that order, not yet queued."""
    return [
        *booking_email_jobs(booking, event=event),
        *calendar_sync_jobs(session, booking=booking, event=event),
        *booking_webhook_jobs(session, booking=booking, event=event, endpoints=webhook_endpoints),
    ]


def plan_booking_effects(session: Session, *, booking: Booking, event: BookingChange) -> None:
    """Queue everything a booking change sets in motion, in one INSERT."""
    enqueue_many(session, booking_effect_jobs(session, booking=booking, event=event))

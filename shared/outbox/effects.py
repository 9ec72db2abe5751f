"""What a booking change sets in motion outside: planned as outbox jobs in the booking's transaction.

Each channel decides for itself whether it has work (an agent without a calendar gets no calendar
job, no configured webhook means no delivery); all of it is written before the booking commits, so
nothing is lost and the booking never waits on Google or SMTP.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from shared.calendars.google.planning import plan_calendar_sync
from shared.models import Booking
from shared.notifications.planning import plan_booking_emails
from shared.notifications.webhooks import plan_booking_webhooks

BookingChange = Literal["created", "cancelled", "rescheduled"]


def plan_booking_effects(session: Session, *, booking: Booking, event: BookingChange) -> None:
    plan_booking_emails(session, booking=booking, event=event)
    plan_calendar_sync(session, booking=booking, event=event)
    plan_booking_webhooks(session, booking=booking, event=event)

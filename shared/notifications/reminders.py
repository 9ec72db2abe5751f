"""Reminder emails (SPEC §14): planned with the booking as due outbox jobs, one per entry of the
meeting type's `reminder_minutes`, sent by the email channel when their time comes.

- planned in the booking's transaction, in its one multi-row outbox INSERT (shared.booking.effects);
- a reminder whose time has already passed when the booking is made (or moved) is not planned;
- a reschedule drops the pending ones and plans them again for the new start (the booking's
  `sequence` is in each dedupe key, so the new ones never collide with the old);
- a cancel drops them; the handler checks again when it runs (cancelled, moved since, or the call
  already started: nothing is sent), for a job a worker had claimed before the drop;
- exactly once: the dedupe key stops a second planning, and the email channel's write-then-send
  protocol (shared.notifications.email_delivery) stops a second sending across worker kills.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shared.models import Booking
from shared.outbox.service import PlannedJob, drop_pending_jobs

REMINDER_JOB = "email.reminder"


def reminder_jobs(booking: Booking, *, event: str, now: datetime) -> list[PlannedJob]:
    """The reminders of a booking just made or moved (none for a cancel), due at start − minutes."""
    if event == "cancelled":
        return []
    jobs: list[PlannedJob] = []
    for minutes in booking.meeting_type.reminder_minutes or []:
        due = booking.start_at - timedelta(minutes=minutes)
        if due < now:
            continue  # its moment had passed when the booking was made: never sent
        jobs.append(
            PlannedJob(
                kind=REMINDER_JOB,
                payload={"booking_id": booking.id, "minutes": minutes, "sequence": booking.sequence},
                dedupe_key=f"email:invitee:booking:{booking.id}:reminder:{minutes}:{booking.sequence}",
                booking_id=booking.id,
                agent_id=booking.agent_id,
                run_at=due,
            )
        )
    return jobs


def drop_reminders(session: Session, *, booking_id: int) -> int:
    """Remove the booking's reminders still waiting for their time (on cancel and reschedule)."""
    return drop_pending_jobs(session, booking_id=booking_id, kind=REMINDER_JOB)

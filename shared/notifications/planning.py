"""Which emails a booking change produces. Rendering and sending happen in the worker."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.models import Booking
from shared.outbox.service import enqueue

EMAIL_JOB = "email.booking"


def plan_booking_emails(session: Session, *, booking: Booking, event: str) -> None:
    """One job per recipient per change; the dedupe key makes a second planning of it a no-op."""
    for recipient in ("agent", "invitee"):
        enqueue(
            session,
            kind=EMAIL_JOB,
            payload={"booking_id": booking.id, "event": event, "recipient": recipient, "sequence": booking.sequence},
            dedupe_key=f"email:{recipient}:booking:{booking.id}:{event}:{booking.sequence}",
            booking_id=booking.id,
            agent_id=booking.agent_id,
        )

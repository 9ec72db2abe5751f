"""Which emails a change produces, planned as outbox jobs in the caller's transaction.

Rendering and sending happen later in the worker (shared.notifications.email_delivery).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared.models import Booking
from shared.outbox.service import PlannedJob, enqueue

EMAIL_JOB = "email.booking"
AGENT_NOTICE_JOB = "email.agent_notice"


def booking_email_jobs(booking: Booking, *, event: str) -> list[PlannedJob]:
    """One job per recipient per change; the dedupe key makes a second planning of it a no-op."""
    return [
        PlannedJob(
            kind=EMAIL_JOB,
            payload={"booking_id": booking.id, "event": event, "recipient": recipient, "sequence": booking.sequence},
            dedupe_key=f"email:{recipient}:booking:{booking.id}:{event}:{booking.sequence}",
            booking_id=booking.id,
            agent_id=booking.agent_id,
        )
        for recipient in ("agent", "invitee")
    ]


def plan_agent_notice(
    session: Session,
    *,
    agent_id: int,
    template: str,
    context: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
) -> None:
    """Queue a notice email to an agent (template e.g. "calendar_reconnect"; context: JSON values).

    Give a dedupe_key (e.g. "notice:calendar_reconnect:agent:7:<connection updated_at>") when the
    same cause could plan it twice.
    """
    enqueue(
        session,
        kind=AGENT_NOTICE_JOB,
        payload={"agent_id": agent_id, "template": template, "context": context},
        dedupe_key=dedupe_key,
        agent_id=agent_id,
        now=now,
    )

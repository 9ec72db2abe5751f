"""Which emails a change produces, planned as outbox jobs in the caller's transaction.

Rendering and sending happen later in the worker (shared.notifications.email_delivery).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from shared.models import Booking
from shared.notifications.webhooks import booking_webhook_jobs
from shared.outbox.service import PlannedJob, bring_forward, enqueue, enqueue_many

EMAIL_JOB = "email.booking"
AGENT_NOTICE_JOB = "email.agent_notice"
JOINING_DETAILS_JOB = "email.joining_details"
# How long the invitee's confirmation of a google_meet booking waits for the Meet link (SPEC §14).
WAIT_FOR_MEET_LINK = timedelta(seconds=60)


def email_dedupe_key(booking_id: int, *, recipient: str, event: str, sequence: int) -> str:
    return f"email:{recipient}:booking:{booking_id}:{event}:{sequence}"


def confirmation_dedupe_key(booking_id: int) -> str:
    """The invitee's confirmation of a new booking (sequence 0: nothing moved it yet)."""
    return email_dedupe_key(booking_id, recipient="invitee", event="created", sequence=0)


def booking_email_jobs(
    booking: Booking, *, event: str, now: datetime | None = None, awaits_meet_link: bool = False
) -> list[PlannedJob]:
    """One job per recipient per change; the dedupe key makes a second planning of it a no-op.

    `awaits_meet_link`: a new google_meet booking whose calendar job is planned. Both emails (the
    invitee's confirmation, the agent's "new call") are then not due before WAIT_FOR_MEET_LINK has
    passed, unless the calendar job brings them forward with the link (plan_join_link_followups).
    Only the invitee gets a "joining details" email if theirs left without it: the agent has the
    link in the calendar event.
    """
    wait = event == "created" and awaits_meet_link and now is not None
    jobs = [
        PlannedJob(
            kind=EMAIL_JOB,
            payload={"booking_id": booking.id, "event": event, "recipient": recipient, "sequence": booking.sequence},
            dedupe_key=email_dedupe_key(booking.id, recipient=recipient, event=event, sequence=booking.sequence),
            booking_id=booking.id,
            agent_id=booking.agent_id,
            run_at=now + WAIT_FOR_MEET_LINK if wait and now is not None else None,
        )
        for recipient in ("agent", "invitee")
    ]
    # The other members of a collective booking (SPEC §15) each get the agent's email too.
    for host in booking.hosts:
        jobs.append(
            PlannedJob(
                kind=EMAIL_JOB,
                payload={
                    "booking_id": booking.id,
                    "event": event,
                    "recipient": "agent",
                    "agent_id": host.agent_id,
                    "sequence": booking.sequence,
                },
                dedupe_key=email_dedupe_key(
                    booking.id, recipient=f"agent{host.agent_id}", event=event, sequence=booking.sequence
                ),
                booking_id=booking.id,
                agent_id=host.agent_id,
                run_at=now + WAIT_FOR_MEET_LINK if wait and now is not None else None,
            )
        )
    return jobs


def former_agent_email_job(booking: Booking, *, former_agent_id: int) -> PlannedJob:
    """The cancellation email to the member a round-robin team booking moved away from (SPEC §15)."""
    return PlannedJob(
        kind=EMAIL_JOB,
        payload={
            "booking_id": booking.id,
            "event": "cancelled",
            "recipient": "agent",
            "former_agent_id": former_agent_id,
            "sequence": booking.sequence,
        },
        dedupe_key=email_dedupe_key(
            booking.id, recipient=f"former{former_agent_id}", event="cancelled", sequence=booking.sequence
        ),
        booking_id=booking.id,
        agent_id=former_agent_id,
    )


def plan_join_link_followups(session: Session, *, booking: Booking, now: datetime) -> None:
    """The Meet link became known (the calendar job saved `join_url`), in the same transaction:
    the invitee's confirmation and the agent's email, if they still wait, are due now (they carry the link); a "joining
    details" email is queued once (dedupe key), which goes out only if the confirmation left
    without the link (shared.notifications.email_delivery.handle_joining_details); and
    `booking.updated` webhooks carry the link."""
    bring_forward(session, dedupe_key=confirmation_dedupe_key(booking.id), now=now)
    bring_forward(
        session, dedupe_key=email_dedupe_key(booking.id, recipient="agent", event="created", sequence=0), now=now
    )
    joining = PlannedJob(
        kind=JOINING_DETAILS_JOB,
        payload={"booking_id": booking.id},
        dedupe_key=f"email:invitee:booking:{booking.id}:joining_details",
        booking_id=booking.id,
        agent_id=booking.agent_id,
    )
    enqueue_many(session, [joining, *booking_webhook_jobs(session, booking=booking, event="updated", now=now)], now=now)


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

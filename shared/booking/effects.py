"""What a booking change sets in motion outside, planned in one place for book, cancel and reschedule.

Everything is written as outbox jobs in the booking's own transaction, in one multi-row INSERT, so
nothing is lost and the booking never waits on Google or SMTP. Each channel decides for itself
whether it has work (an agent without a calendar gets no calendar job, no configured webhook means
no delivery). A collective team booking's other members (booking.hosts) each get the agent's email
and the calendar event in their own calendar too. In order: the webhooks of the step event that
caused the change (the booking form's `calendar_4th_step_submit`), the emails, the reminders
(shared.notifications.reminders), the calendar writes, the `booking.<change>` webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from shared.calendars.google.planning import calendar_jobs, calendar_status, former_agent_calendar_jobs
from shared.models import Booking, Event, WebhookEndpoint
from shared.notifications.planning import booking_email_jobs, former_agent_email_job
from shared.notifications.reminders import drop_reminders, reminder_jobs
from shared.notifications.webhooks import active_endpoints, booking_webhook_jobs, event_webhook_jobs
from shared.outbox.service import PlannedJob, enqueue_many

BookingChange = Literal["created", "cancelled", "rescheduled"]


@dataclass(frozen=True)
class EffectTargets:
    """What decides which channels have work: the agent's calendar connection status and the active
    webhook endpoints. A caller that read them already (the booking reads them with the agent in one
    statement) passes them in; otherwise they are read here."""

    calendar_status: str | None
    webhook_endpoints: Sequence[WebhookEndpoint]


def effect_targets(session: Session, *, agent_id: int) -> EffectTargets:
    return EffectTargets(
        calendar_status=calendar_status(session, agent_id=agent_id),
        webhook_endpoints=active_endpoints(session),
    )


def booking_effect_jobs(
    session: Session,
    *,
    booking: Booking,
    event: BookingChange,
    now: datetime,
    targets: EffectTargets | None = None,
    step_event: Event | None = None,
) -> list[PlannedJob]:
    """The jobs of a change (see the module docstring for the order), not yet queued.

    `step_event`: the flushed step event recorded with the change, whose webhooks go out with it.
    """
    targets = targets or effect_targets(session, agent_id=booking.agent_id)
    step_jobs = (
        event_webhook_jobs(session, event=step_event, endpoints=targets.webhook_endpoints)
        if step_event is not None
        else []
    )
    calendar = calendar_jobs(booking, event=event, status=targets.calendar_status)
    # A collective booking (SPEC §15): every other member gets the event in their own calendar.
    for host in booking.hosts:
        status = calendar_status(session, agent_id=host.agent_id)
        calendar += calendar_jobs(booking, event=event, status=status, host_agent_id=host.agent_id)
    # A new Meet booking's confirmation waits (up to a minute) for the link the calendar job brings.
    awaits_meet_link = booking.location_kind == "google_meet" and bool(calendar) and booking.join_url is None
    return [
        *step_jobs,
        *booking_email_jobs(booking, event=event, now=now, awaits_meet_link=awaits_meet_link),
        *reminder_jobs(booking, event=event, now=now),
        *calendar,
        *booking_webhook_jobs(session, booking=booking, event=event, now=now, endpoints=targets.webhook_endpoints),
    ]


def plan_booking_effects(
    session: Session,
    *,
    booking: Booking,
    event: BookingChange,
    now: datetime,
    targets: EffectTargets | None = None,
    step_event: Event | None = None,
) -> None:
    """Queue everything a booking change sets in motion, in one INSERT (a cancel or reschedule first
    drops the reminders planned for the old time)."""
    if event != "created":
        drop_reminders(session, booking_id=booking.id)
    jobs = booking_effect_jobs(session, booking=booking, event=event, now=now, targets=targets, step_event=step_event)
    enqueue_many(session, jobs, now=now)


def plan_reassignment_effects(
    session: Session, *, booking: Booking, former_agent_id: int, former_event_id: str, now: datetime
) -> None:
    """A round-robin team booking moved to another member on reschedule (SPEC §15): the former member
    is told the call is off for them and their Google event is removed; the new member's email and
    event come with the booking's own `rescheduled` effects."""
    jobs = [
        *former_agent_calendar_jobs(
            booking,
            former_agent_id=former_agent_id,
            former_event_id=former_event_id,
            status=calendar_status(session, agent_id=former_agent_id),
        ),
        former_agent_email_job(booking, former_agent_id=former_agent_id),
    ]
    enqueue_many(session, jobs, now=now)

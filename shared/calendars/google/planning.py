"""Which Google Calendar jobs a booking change produces (planned in the booking's transaction)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import Booking, CalendarConnection
from shared.models.calendar import STATUS_CONNECTED, STATUS_NEEDS_RECONNECT
from shared.outbox.service import PlannedJob

UPSERT_JOB = "calendar.google.upsert"
DELETE_JOB = "calendar.google.delete"


def calendar_status(session: Session, *, agent_id: int) -> str | None:
    """The agent's Google connection status, None without a connection."""
    return session.scalar(select(CalendarConnection.status).where(CalendarConnection.agent_id == agent_id))


def calendar_jobs(
    booking: Booking, *, event: str, status: str | None, host_agent_id: int | None = None
) -> list[PlannedJob]:
    """The calendar write for a booking change, given the agent's connection status.

    `needs_reconnect` still plans: the job waits (parked) and runs once the agent reconnects, so
    bookings made meanwhile still reach the calendar. The dedupe key makes planning twice a no-op.
    `host_agent_id`: the job of another member of a collective booking (SPEC §15), in their calendar.
    """
    if status not in (STATUS_CONNECTED, STATUS_NEEDS_RECONNECT):
        return []
    payload: dict[str, object] = {"booking_id": booking.id, "event": event, "sequence": booking.sequence}
    host = ""
    if host_agent_id is not None:
        payload["agent_id"] = host_agent_id
        host = f":host:{host_agent_id}"
    return [
        PlannedJob(
            kind=DELETE_JOB if event == "cancelled" else UPSERT_JOB,
            payload=payload,
            dedupe_key=f"calendar:google:booking:{booking.id}{host}:{event}:{booking.sequence}",
            booking_id=booking.id,
            agent_id=booking.agent_id if host_agent_id is None else host_agent_id,
        )
    ]


def former_agent_calendar_jobs(
    booking: Booking, *, former_agent_id: int, former_event_id: str, status: str | None
) -> list[PlannedJob]:
    """The removal of a booking's event from the calendar of the member it moved away from (a
    round-robin team booking rescheduled to another member, SPEC §15)."""
    if status not in (STATUS_CONNECTED, STATUS_NEEDS_RECONNECT):
        return []
    return [
        PlannedJob(
            kind=DELETE_JOB,
            payload={
                "booking_id": booking.id,
                "event": "reassigned",
                "sequence": booking.sequence,
                "former_agent_id": former_agent_id,
                "event_id": former_event_id,
            },
            dedupe_key=f"calendar:google:booking:{booking.id}:former:{former_agent_id}:{booking.sequence}",
            booking_id=booking.id,
            agent_id=former_agent_id,
        )
    ]

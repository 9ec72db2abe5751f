"""The change cut-off (SPEC §5, extension), in its one home.

`change_cutoff_minutes` in the agent's availability: within that many minutes of a booking's start,
the invitee can no longer cancel or reschedule through the manage token (the API and the hosted
manage page answer 409 with the reason). The agent and managers still cancel (dashboard, admin API).
The confirmation email and the manage page say until when changes are possible, in the invitee's zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.models import Booking
from shared.timezones import zone


def change_deadline(booking: Booking) -> datetime | None:
    """The last instant (exclusive) the invitee may change the booking; None without a cut-off."""
    minutes = booking.agent.availability.change_cutoff_minutes
    return booking.start_at - timedelta(minutes=minutes) if minutes else None


def changes_closed(booking: Booking, *, now: datetime) -> bool:
    """True once the cut-off has been reached: changes by manage token are refused from then on."""
    deadline = change_deadline(booking)
    return deadline is not None and now >= deadline


def format_deadline(deadline: datetime, timezone: str) -> str:
    """'Tuesday, 2 June 2026, 08:00 (Europe/Warsaw)': the cut-off in the reader's zone."""
    local = deadline.astimezone(zone(timezone))
    return f"{local:%A}, {local.day} {local:%B %Y}, {local:%H:%M} ({timezone})"


def cutoff_reason(booking: Booking) -> str:
    """Why a change by manage token is refused, with the deadline in the invitee's zone."""
    deadline = change_deadline(booking)
    minutes = booking.agent.availability.change_cutoff_minutes
    until = f" (changes were possible until {format_deadline(deadline, booking.invitee_timezone)})" if deadline else ""
    return (
        f"this booking can no longer be cancelled or rescheduled online: changes close {minutes} minutes "
        f"before the start{until}; please contact {booking.agent.name}"
    )

"""The Google event of a booking: its deterministic id and its content."""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from shared.calendars.google.client import rfc3339
from shared.models import Booking

_ID_DOMAIN = b"meetings/booking-event/v1:"


def event_id_for(booking: Booking) -> str:
    """The Google event id of a booking: the same on every attempt, so a retry cannot add a second event.

    Google takes ids of 5–1024 characters from the base32hex alphabet (0-9, a-v). The id hashes the
    booking id with its random manage token, so two installations writing to one calendar never
    pick the same id for their booking #1. 160 bits → 32 characters.
    """
    digest = hashlib.sha256(_ID_DOMAIN + f"{booking.id}:{booking.manage_token}".encode()).digest()[:20]
    return base64.b32hexencode(digest).decode().lower().rstrip("=")


def event_times(booking: Booking) -> dict[str, Any]:
    # The agent's zone makes the event display in their wall-clock time on every device.
    return {
        "start": {"dateTime": rfc3339(booking.start_at), "timeZone": booking.agent.timezone},
        "end": {"dateTime": rfc3339(booking.end_at), "timeZone": booking.agent.timezone},
    }


def event_content(booking: Booking) -> dict[str, Any]:
    """Everything the event says, without its id: what a patch brings up to date."""
    invitee = f"{booking.first_name} {booking.last_name}".strip()
    # Google Calendar renders the description as HTML: escape everything the invitee typed.
    lines = [
        f"<b>{html.escape(booking.meeting_type.name)}</b> with {html.escape(invitee)}",
        f"Company: {html.escape(booking.company_name)}",
        f"Email: {html.escape(booking.email)}",
        "",
        html.escape(booking.description).replace("\n", "<br>"),
    ]
    return {
        # The summary is plain text in Google Calendar; it is shown as typed, never interpreted.
        "summary": f"{booking.meeting_type.name}: {invitee}"
        + (f" ({booking.company_name})" if booking.company_name else ""),
        "description": "<br>".join(lines),
        **event_times(booking),
        "attendees": [{"email": booking.email, "displayName": invitee}],
        "extendedProperties": {"private": {"meetingsBookingId": str(booking.id)}},
        "status": "confirmed",
    }


def event_for_insert(booking: Booking, event_id: str) -> dict[str, Any]:
    return {"id": event_id, **event_content(booking), "reminders": {"useDefault": True}}

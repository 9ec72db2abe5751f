"""The Google event of a booking: its deterministic id and its content."""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from shared.calendars.google.client import rfc3339
from shared.models import Booking

_ID_DOMAIN = b"meetings/booking-event/v1:"
_CONFERENCE_DOMAIN = b"meetings/booking-conference/v1:"


def event_id_for(booking: Booking, *, host_agent_id: int | None = None) -> str:
    """The Google event id of a booking: the same on every attempt, so a retry cannot add a second event.

    Google takes ids of 5–1024 characters from the base32hex alphabet (0-9, a-v). The id hashes the
    booking id with its random manage token, so two installations writing to one calendar never
    pick the same id for their booking #1. 160 bits → 32 characters.
    """
    # A collective booking's other members (SPEC §15) each get their own event, with its own id.
    host = "" if host_agent_id is None else f":host:{host_agent_id}"
    digest = hashlib.sha256(_ID_DOMAIN + f"{booking.id}:{booking.manage_token}{host}".encode()).digest()[:20]
    return base64.b32hexencode(digest).decode().lower().rstrip("=")


def conference_request_id(booking: Booking) -> str:
    """The `conferenceData.createRequest.requestId` of a booking: the same on every retry, so Google
    answers a repeated request with the same Meet conference instead of a second one."""
    digest = hashlib.sha256(_CONFERENCE_DOMAIN + f"{booking.id}:{booking.manage_token}".encode()).digest()[:20]
    return base64.b32hexencode(digest).decode().lower().rstrip("=")


def _location_text(booking: Booking) -> str | None:
    """The event's `location` field: the address, the link or the agent's number (Meet has its own)."""
    if booking.location_kind in ("in_person", "link") or (booking.location_kind == "phone" and booking.location_value):
        return booking.location_value
    if booking.location_kind == "phone" and booking.phone:
        return booking.phone
    return None


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
    ]
    if booking.phone:
        lines.append(f"Phone: {html.escape(booking.phone)}")
    if booking.location_kind == "phone":
        lines.append(
            f"Call: {html.escape(booking.location_value)} (the invitee calls you)"
            if booking.location_value
            else "Call: you call the invitee"
        )
    elif booking.location_kind == "link" and booking.location_value:
        lines.append(f"Join: {html.escape(booking.location_value)}")
    elif booking.location_kind == "in_person" and booking.location_value:
        lines.append(f"Where: {html.escape(booking.location_value)}")
    lines.extend(["", html.escape(booking.description).replace("\n", "<br>")])
    place = _location_text(booking)
    return {
        # The summary is plain text in Google Calendar; it is shown as typed, never interpreted.
        "summary": f"{booking.meeting_type.name}: {invitee}"
        + (f" ({booking.company_name})" if booking.company_name else ""),
        "description": "<br>".join(lines),
        **event_times(booking),
        "attendees": [{"email": booking.email, "displayName": invitee}],
        "extendedProperties": {"private": {"meetingsBookingId": str(booking.id)}},
        "status": "confirmed",
        **({"location": place} if place else {}),
    }


def event_for_insert(booking: Booking, event_id: str) -> dict[str, Any]:
    """The whole event; a google_meet booking asks for a Meet conference (sent with
    conferenceDataVersion=1, without which Google drops the request silently)."""
    body: dict[str, Any] = {"id": event_id, **event_content(booking), "reminders": {"useDefault": True}}
    if booking.location_kind == "google_meet":
        body["conferenceData"] = {
            "createRequest": {
                "requestId": conference_request_id(booking),
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
    return body

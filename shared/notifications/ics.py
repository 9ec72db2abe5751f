"""iCalendar invitations built with the icalendar library; one stable UID per booking.

REQUEST on booking and reschedule, CANCEL on cancellation; SEQUENCE is the booking's sequence
(bumped by every reschedule and cancel) so calendar clients replace the earlier version instead of
adding a second event. All times are written in UTC (`…Z`), so no VTIMEZONE is needed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText

from shared.models import STATUS_CANCELLED, Booking

IcsMethod = Literal["REQUEST", "CANCEL"]


def booking_uid(booking: Booking) -> str:
    """Stable for the life of the booking and unique across installations.

    Derived from a hash of the manage token so the invitation never carries the token itself.
    """
    digest = hashlib.sha256(f"meetings-uid:{booking.manage_token}".encode()).hexdigest()[:24]
    return f"booking-{booking.id}-{digest}@meetings"


def booking_ics(
    booking: Booking,
    *,
    method: IcsMethod | None = None,
    now: datetime,
    manage_url: str | None = None,
) -> str:
    """A VCALENDAR with one VEVENT; method REQUEST for invitations, CANCEL for cancellations.

    `manage_url` (the invitee's copy only) is added to the description and as the event URL.
    """
    cancelled = booking.status == STATUS_CANCELLED
    method = method or ("CANCEL" if cancelled else "REQUEST")
    calendar = Calendar()
    calendar.add("prodid", "-//Meetings//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", booking.start_at.astimezone(UTC))
    event.add("dtend", booking.end_at.astimezone(UTC))
    event.add("sequence", booking.sequence)
    event.add("summary", f"{booking.meeting_type.name}: {booking.agent.name} and {_invitee_name(booking)}")
    event.add("description", _description(booking, manage_url))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if place := booking_place(booking):
        event.add("location", place)
    if manage_url:
        event.add("url", manage_url)

    organizer = vCalAddress(f"mailto:{booking.agent.email}")
    organizer.params["cn"] = vText(booking.agent.name)
    organizer.params["role"] = vText("CHAIR")
    event.add("organizer", organizer, encode=False)
    attendee = vCalAddress(f"mailto:{booking.email}")
    attendee.params["cn"] = vText(_invitee_name(booking))
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["cutype"] = vText("INDIVIDUAL")
    event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical.decode()


def booking_place(booking: Booking) -> str | None:
    """Where the call happens, in one line (the .ics LOCATION, the manage page): the join link, the
    address, the agent's number, or the invitee's number for a call the agent makes."""
    if booking.join_url:
        return booking.join_url
    if booking.location_kind == "google_meet":
        return "Google Meet"
    if booking.location_kind in ("in_person", "phone") and booking.location_value:
        return booking.location_value
    if booking.location_kind == "phone":
        return f"Phone: {booking.phone}" if booking.phone else "Phone call"
    return None


def _invitee_name(booking: Booking) -> str:
    return f"{booking.first_name} {booking.last_name}".strip()


def _description(booking: Booking, manage_url: str | None) -> str:
    lines = [f"{booking.meeting_type.name} ({booking.meeting_type.duration_minutes} min)"]
    lines.append(f"With: {_invitee_name(booking)} <{booking.email}>")
    if booking.company_name:
        lines.append(f"Company: {booking.company_name}")
    if booking.description:
        lines.extend(["", booking.description])
    if booking.join_url:
        lines.extend(["", f"Join: {booking.join_url}"])
    if booking.phone:
        lines.append(f"Phone: {booking.phone}")
    if booking.status == STATUS_CANCELLED and booking.cancel_reason:
        lines.extend(["", f"Cancelled: {booking.cancel_reason}"])
    if manage_url:
        lines.extend(["", f"Cancel or reschedule: {manage_url}"])
    return "\n".join(lines)

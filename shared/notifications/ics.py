"""iCalendar invitations built with the icalendar library; one stable UID per booking."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from shared.models import STATUS_CANCELLED, Booking


def booking_uid(booking: Booking) -> str:
    return f"booking-{booking.id}-{booking.manage_token[:16]}@meetings"


def booking_ics(booking: Booking, *, method: str | None = None, now: datetime | None = None) -> str:
    """A VCALENDAR with one VEVENT; method REQUEST for invitations, CANCEL for cancellations."""
    method = method or ("CANCEL" if booking.status == STATUS_CANCELLED else "REQUEST")
    calendar = Calendar()
    calendar.add("prodid", "-//Meetings//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", now or booking.updated_at or booking.created_at)
    event.add("dtstart", booking.start_at)
    event.add("dtend", booking.end_at)
    event.add("sequence", booking.sequence)
    event.add("summary", f"{booking.meeting_type.name} with {booking.agent.name}")
    lines = [f"{booking.first_name} {booking.last_name}".strip()]
    if booking.company_name:
        lines.append(booking.company_name)
    if booking.description:
        lines.extend(["", booking.description])
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if booking.status == STATUS_CANCELLED else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{booking.agent.email}")
    organizer.params["cn"] = vText(booking.agent.name)
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{booking.email}")
    attendee.params["cn"] = vText(f"{booking.first_name} {booking.last_name}".strip())
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical().decode()

"""What each email says: subjects, text and HTML bodies rendered from Jinja2 templates.

HTML templates are autoescaped (names and descriptions are stored as given and may hold markup);
text templates are not, because plain text shows characters, not markup. Times are shown in the
recipient's zone: the agent's own zone for the agent, the zone the invitee booked in for the invitee.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.models import Agent, Booking
from shared.notifications.errors import UnknownEmailTemplate
from shared.notifications.ics import IcsMethod, booking_ics
from shared.settings import Settings
from shared.timezones import zone

TEMPLATE_DIR = Path(__file__).parent / "templates"

Recipient = Literal["agent", "invitee"]
BookingEmailEvent = Literal["created", "cancelled", "rescheduled"]

AGENT_SUBJECTS: dict[str, str] = {
    "created": "New call scheduled: {type} with {first} {last}",
    "cancelled": "Call cancelled: {type} with {first} {last}",
    "rescheduled": "Call rescheduled: {type} with {first} {last}",
}
INVITEE_SUBJECTS: dict[str, str] = {
    "created": "Confirmed: {type} with {agent}",
    "cancelled": "Cancelled: {type} with {agent}",
    "rescheduled": "Rescheduled: {type} with {agent}",
}
JOINING_DETAILS_SUBJECT = "Joining details: {type} with {agent}"
# Agent notices other channels can send ("email.agent_notice" jobs): template name -> subject.
NOTICE_SUBJECTS: dict[str, str] = {
    "calendar_reconnect": "Reconnect your Google Calendar to keep bookings in sync",
}


@dataclass(frozen=True)
class RenderedEmail:
    to_address: str
    to_name: str
    subject: str
    text_body: str
    html_body: str
    ics: str | None = None
    reply_to: str | None = None


@lru_cache(maxsize=1)
def template_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def header_text(value: str) -> str:
    """One line, no control characters: safe for a Subject or a display name (no header injection)."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()


def format_when(start: datetime, end: datetime, timezone: str) -> str:
    """'Tuesday, 2 June 2026, 09:00–09:30 (Europe/Warsaw, UTC+02:00)' in the given zone."""
    local_start = start.astimezone(zone(timezone))
    local_end = end.astimezone(zone(timezone))
    offset = local_start.strftime("%z")
    day = f"{local_start:%A}, {local_start.day} {local_start:%B %Y}"
    end_text = f"{local_end:%H:%M}" if local_end.date() == local_start.date() else f"{local_end:%d %b %H:%M}"
    return f"{day}, {local_start:%H:%M}–{end_text} ({timezone}, UTC{offset[:3]}:{offset[3:]})"


@dataclass(frozen=True)
class LocationRow:
    """One line of where / how to join, as the emails show it (`url`: made a link in HTML)."""

    label: str
    text: str
    url: str | None = None


def _tel(number: str) -> str:
    return "tel:" + "".join(ch for ch in number if ch.isdigit() or ch == "+")


def location_rows(booking: Booking, *, recipient: Recipient) -> list[LocationRow]:
    """Where the call happens and how to join, told to the invitee or to the agent (SPEC §14)."""
    to_agent = recipient == "agent"
    invitee = f"{booking.first_name} {booking.last_name}".strip()
    kind, value = booking.location_kind, booking.location_value
    rows: list[LocationRow] = []
    if kind == "google_meet":
        if booking.join_url:
            rows.append(LocationRow("Join", f"Google Meet: {booking.join_url}", booking.join_url))
        else:
            rows.append(LocationRow("Join", "Google Meet (the link follows in a separate email)"))
    elif kind == "link" and value:
        rows.append(LocationRow("Join", value, value))
    elif kind == "in_person" and value:
        rows.append(LocationRow("Where", value))
    elif kind == "phone" and value:
        text = f"{invitee} calls you on {value}" if to_agent else f"Call {booking.agent.name} on {value}"
        rows.append(LocationRow("Phone", text, None if to_agent else _tel(value)))
    elif kind == "phone":
        who = booking.phone or "the number they gave"
        text = f"Call {invitee} on {who}" if to_agent else f"{booking.agent.name} calls you on {who}"
        rows.append(
            LocationRow("Phone", text, f"tel:{booking.phone.replace(' ', '')}" if to_agent and booking.phone else None)
        )
    if to_agent and booking.phone and kind != "phone":
        rows.append(LocationRow("Phone", booking.phone, f"tel:{booking.phone.replace(' ', '')}"))
    return rows


def render_booking_email(
    booking: Booking,
    *,
    event: BookingEmailEvent,
    recipient: Recipient,
    settings: Settings,
    now: datetime,
) -> RenderedEmail:
    """The email one recipient gets for one change of a booking, with its .ics invitation."""
    agent = booking.agent
    to_agent = recipient == "agent"
    timezone = agent.timezone if to_agent else booking.invitee_timezone
    manage_url = None if to_agent else settings.manage_url(booking.manage_token)
    method: IcsMethod = "CANCEL" if event == "cancelled" else "REQUEST"
    names = {
        "type": booking.meeting_type.name,
        "first": booking.first_name,
        "last": booking.last_name,
        "agent": agent.name,
    }
    subject = (AGENT_SUBJECTS if to_agent else INVITEE_SUBJECTS)[event].format(**names)
    context: dict[str, Any] = {
        "event": event,
        "booking": booking,
        "agent": agent,
        "meeting_type": booking.meeting_type,
        "when": format_when(booking.start_at, booking.end_at, timezone),
        "timezone": timezone,
        "manage_url": manage_url,
        "booking_url": settings.booking_url(agent.link) if agent.active else None,
        "subject": header_text(subject),
        "location_rows": location_rows(booking, recipient=recipient),
    }
    template = "booking_agent" if to_agent else "booking_invitee"
    environment = template_environment()
    return RenderedEmail(
        to_address=agent.email if to_agent else booking.email,
        to_name=header_text(agent.name if to_agent else f"{booking.first_name} {booking.last_name}"),
        subject=header_text(subject),
        text_body=environment.get_template(f"{template}.txt").render(context),
        html_body=environment.get_template(f"{template}.html").render(context),
        ics=booking_ics(booking, method=method, now=now, manage_url=manage_url),
        reply_to=booking.email if to_agent else agent.email,
    )


def render_joining_details(booking: Booking, *, settings: Settings) -> RenderedEmail:
    """The short email to the invitee with the Meet link, when it was not known for the confirmation."""
    agent = booking.agent
    subject = header_text(JOINING_DETAILS_SUBJECT.format(type=booking.meeting_type.name, agent=agent.name))
    context: dict[str, Any] = {
        "booking": booking,
        "agent": agent,
        "meeting_type": booking.meeting_type,
        "when": format_when(booking.start_at, booking.end_at, booking.invitee_timezone),
        "manage_url": settings.manage_url(booking.manage_token),
        "location_rows": location_rows(booking, recipient="invitee"),
        "subject": subject,
    }
    environment = template_environment()
    return RenderedEmail(
        to_address=booking.email,
        to_name=header_text(f"{booking.first_name} {booking.last_name}"),
        subject=subject,
        text_body=environment.get_template("joining_details.txt").render(context),
        html_body=environment.get_template("joining_details.html").render(context),
        reply_to=agent.email,
    )


def render_agent_notice(agent: Agent, *, template: str, context: dict[str, Any], settings: Settings) -> RenderedEmail:
    """A notice to an agent about their account (e.g. 'reconnect your calendar'); no invitation."""
    if template not in NOTICE_SUBJECTS:
        raise UnknownEmailTemplate(template)
    subject = header_text(NOTICE_SUBJECTS[template])
    values: dict[str, Any] = {
        "agent": agent,
        "dashboard_url": settings.dashboard_url,
        "subject": subject,
        "context": context,
    }
    environment = template_environment()
    return RenderedEmail(
        to_address=agent.email,
        to_name=header_text(agent.name),
        subject=subject,
        text_body=environment.get_template(f"notice_{template}.txt").render(values),
        html_body=environment.get_template(f"notice_{template}.html").render(values),
    )

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

from shared.availability.cutoff import change_deadline, format_deadline
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
    deadline = change_deadline(booking)
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
        # The change cut-off (SPEC §5), in the recipient's zone; None without one.
        "changes_until": format_deadline(deadline, timezone) if deadline is not None else None,
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

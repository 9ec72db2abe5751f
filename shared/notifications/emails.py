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

from shared.availability.cutoff import change_deadline
from shared.models import Agent, Booking
from shared.notifications.errors import UnknownEmailTemplate
from shared.notifications.i18n import Translator, format_deadline, format_when, translator
from shared.notifications.ics import IcsMethod, booking_ics
from shared.settings import Settings

TEMPLATE_DIR = Path(__file__).parent / "templates"

Recipient = Literal["agent", "invitee"]
BookingEmailEvent = Literal["created", "cancelled", "rescheduled"]
# Subjects, headings and labels: shared.notifications.i18n, in the recipient's language (the
# booking's `locale` for the invitee, the agent's own `locale` for the agent).

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


@dataclass(frozen=True)
class LocationRow:
    """One line of where / how to join, as the emails show it (`url`: made a link in HTML)."""

    label: str
    text: str
    url: str | None = None


def _tel(number: str) -> str:
    return "tel:" + "".join(ch for ch in number if ch.isdigit() or ch == "+")


def location_rows(booking: Booking, *, recipient: Recipient, t: Translator | None = None) -> list[LocationRow]:
    """Where the call happens and how to join, told to the invitee or to the agent (SPEC §14), in
    the language of `t` (English without one)."""
    t = t or translator("en")
    to_agent = recipient == "agent"
    invitee = f"{booking.first_name} {booking.last_name}".strip()
    agent = booking.agent.name
    kind, value = booking.location_kind, booking.location_value
    rows: list[LocationRow] = []
    if kind == "google_meet":
        if booking.join_url:
            rows.append(LocationRow(t("details.join"), t("location.meet", url=booking.join_url), booking.join_url))
        else:
            rows.append(LocationRow(t("details.join"), t("location.meet_pending")))
    elif kind == "link" and value:
        rows.append(LocationRow(t("details.join"), value, value))
    elif kind == "in_person" and value:
        rows.append(LocationRow(t("details.where"), value))
    elif kind == "phone" and value:
        text = (
            t("location.invitee_calls.agent", invitee=invitee, number=value)
            if to_agent
            else t("location.invitee_calls.invitee", agent=agent, number=value)
        )
        rows.append(LocationRow(t("details.phone"), text, None if to_agent else _tel(value)))
    elif kind == "phone":
        who = booking.phone or t("location.their_number")
        text = (
            t("location.agent_calls.agent", invitee=invitee, number=who)
            if to_agent
            else t("location.agent_calls.invitee", agent=agent, number=who)
        )
        rows.append(
            LocationRow(
                t("details.phone"),
                text,
                f"tel:{booking.phone.replace(' ', '')}" if to_agent and booking.phone else None,
            )
        )
    if to_agent and booking.phone and kind != "phone":
        rows.append(LocationRow(t("details.phone"), booking.phone, f"tel:{booking.phone.replace(' ', '')}"))
    return rows


def render_booking_email(
    booking: Booking,
    *,
    event: BookingEmailEvent,
    recipient: Recipient,
    settings: Settings,
    now: datetime,
    agent: Agent | None = None,
) -> RenderedEmail:
    """The email one recipient gets for one change of a booking, with its .ics invitation, in the
    recipient's language and time zone. `agent`: another member of a collective booking, who gets
    the agent's email (default: the booking's agent)."""
    agent = agent or booking.agent
    to_agent = recipient == "agent"
    timezone = agent.timezone if to_agent else booking.invitee_timezone
    locale = agent.locale if to_agent else booking.locale
    t = translator(locale)
    manage_url = None if to_agent else settings.manage_url(booking.manage_token)
    method: IcsMethod = "CANCEL" if event == "cancelled" else "REQUEST"
    subject = t(f"subject.{recipient}.{event}", **_names(booking))
    context = {
        **_context(booking, settings=settings, timezone=timezone, locale=locale, subject=subject),
        "event": event,
        "manage_url": manage_url,
        "location_rows": location_rows(booking, recipient=recipient, t=t),
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


def _names(booking: Booking) -> dict[str, str]:
    return {
        "type": booking.meeting_type.name,
        "first": booking.first_name,
        "last": booking.last_name,
        "agent": booking.agent_names,
    }


def _context(booking: Booking, *, settings: Settings, timezone: str, locale: str, subject: str) -> dict[str, Any]:
    """What every booking email template reads: the booking, `t` in the recipient's language, and
    when/where in their zone."""
    agent = booking.agent
    deadline = change_deadline(booking)
    return {
        "booking": booking,
        "agent": agent,
        "meeting_type": booking.meeting_type,
        "t": translator(locale),
        "lang": locale,
        "when": format_when(booking.start_at, booking.end_at, timezone, locale),
        "timezone": timezone,
        "booking_url": settings.booking_url(agent.link) if agent.active else None,
        "subject": header_text(subject),
        # The change cut-off (SPEC §5), in the recipient's zone and language; None without one.
        "changes_until": format_deadline(deadline, timezone, locale) if deadline is not None else None,
    }


def render_reminder_email(booking: Booking, *, settings: Settings) -> RenderedEmail:
    """The reminder the invitee gets before the call: when (their zone), where / join link, and the
    manage link, in the booking's language. No invitation: the confirmation carried it."""
    t = translator(booking.locale)
    subject = t("subject.invitee.reminder", **_names(booking))
    context = {
        **_context(
            booking, settings=settings, timezone=booking.invitee_timezone, locale=booking.locale, subject=subject
        ),
        "event": "reminder",
        "manage_url": settings.manage_url(booking.manage_token),
        "location_rows": location_rows(booking, recipient="invitee", t=t),
    }
    environment = template_environment()
    return RenderedEmail(
        to_address=booking.email,
        to_name=header_text(f"{booking.first_name} {booking.last_name}"),
        subject=header_text(subject),
        text_body=environment.get_template("booking_reminder.txt").render(context),
        html_body=environment.get_template("booking_reminder.html").render(context),
        reply_to=booking.agent.email,
    )


def render_joining_details(booking: Booking, *, settings: Settings) -> RenderedEmail:
    """The short email to the invitee with the Meet link, when it was not known for the confirmation
    (in the booking's language)."""
    t = translator(booking.locale)
    subject = t("subject.invitee.joining_details", **_names(booking))
    context = {
        **_context(
            booking, settings=settings, timezone=booking.invitee_timezone, locale=booking.locale, subject=subject
        ),
        "event": "joining_details",
        "manage_url": settings.manage_url(booking.manage_token),
        "location_rows": location_rows(booking, recipient="invitee", t=t),
    }
    environment = template_environment()
    return RenderedEmail(
        to_address=booking.email,
        to_name=header_text(f"{booking.first_name} {booking.last_name}"),
        subject=header_text(subject),
        text_body=environment.get_template("joining_details.txt").render(context),
        html_body=environment.get_template("joining_details.html").render(context),
        reply_to=booking.agent.email,
    )


def render_agent_notice(agent: Agent, *, template: str, context: dict[str, Any], settings: Settings) -> RenderedEmail:
    """A notice to an agent about their account (e.g. 'reconnect your calendar'); no invitation."""
    if template not in NOTICE_SUBJECTS:
        raise UnknownEmailTemplate(template)
    subject = header_text(NOTICE_SUBJECTS[template])
    values: dict[str, Any] = {
        "agent": agent,
        "t": translator(agent.locale),
        "lang": agent.locale,
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

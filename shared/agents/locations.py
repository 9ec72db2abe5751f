"""Where a call happens (SPEC §14): the location of a meeting type and the invitee's phone.

Rules owned here, each refused with the reason (InvalidMeetingType / InvalidPhone, a 422):
- `kind` is one of google_meet, phone, link, in_person, none;
- `link` takes an absolute https URL of at most 2,000 characters;
- `in_person` takes an address of 1–500 characters;
- `phone` takes the agent's number (a phone number, see below) or null: the agent calls the invitee,
  so the booking form asks for the invitee's phone;
- `google_meet` and `none` take no value, and `google_meet` needs a connected Google Calendar
  (the Meet link is created with the calendar event);
- a phone number: digits, spaces and `+ - ( )`, at most 32 characters, with at least 5 digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.agents.errors import InvalidMeetingType
from shared.errors import InvalidInput
from shared.models import CalendarConnection
from shared.models.calendar import STATUS_CONNECTED

LocationKind = Literal["google_meet", "phone", "link", "in_person", "none"]
LOCATION_KINDS: tuple[LocationKind, ...] = ("google_meet", "phone", "link", "in_person", "none")
LINK_MAX_LENGTH = 2000
ADDRESS_MAX_LENGTH = 500
PHONE_MAX_LENGTH = 32
PHONE_MIN_DIGITS = 5
PHONE = re.compile(r"^[0-9 +\-()]+$")
# What a person reads for each kind (dashboard, emails, manage page).
KIND_LABELS: dict[str, str] = {
    "google_meet": "Google Meet",
    "phone": "Phone call",
    "link": "Online meeting",
    "in_person": "In person",
    "none": "No location",
}


class InvalidPhone(InvalidInput):
    """The invitee's phone is missing where the meeting type needs it, or is not a phone number."""


@dataclass(frozen=True)
class Location:
    kind: LocationKind
    value: str | None = None


NO_LOCATION = Location("none")


def phone_problem(value: str) -> str | None:
    """Why this is not a phone number, or None."""
    if len(value) > PHONE_MAX_LENGTH:
        return f"a phone number has at most {PHONE_MAX_LENGTH} characters"
    if not PHONE.match(value) or sum(ch.isdigit() for ch in value) < PHONE_MIN_DIGITS:
        return f"{value!r} is not a phone number (digits, spaces and + - ( ), at least {PHONE_MIN_DIGITS} digits)"
    return None


def check_invitee_phone(value: str | None, *, required: bool) -> str | None:
    """The invitee's phone as stored (stripped; None when not given). InvalidPhone when it is
    required and missing, or given and malformed (a phone is kept whenever it is well-formed)."""
    phone = value.strip() if isinstance(value, str) else None
    if not phone:
        if required:
            raise InvalidPhone("phone is required for this meeting type: the agent will call you")
        return None
    if (problem := phone_problem(phone)) is not None:
        raise InvalidPhone(f"phone: {problem}")
    return phone


def google_connected(session: Session, *, agent_id: int) -> bool:
    """Whether the agent has a connected Google Calendar (needed for `google_meet`)."""
    status = session.scalar(select(CalendarConnection.status).where(CalendarConnection.agent_id == agent_id))
    return status == STATUS_CONNECTED


def check_location(raw: object) -> Location:
    """A location from its input form `{"kind", "value"}` (value optional), or InvalidMeetingType."""
    if not isinstance(raw, Mapping):
        raise InvalidMeetingType('location must be an object {"kind", "value"}')
    data = cast(Mapping[str, Any], raw)
    unknown = sorted(set(data) - {"kind", "value"})
    if unknown:
        raise InvalidMeetingType(f"location: unknown field {unknown[0]!r}; fields: kind, value")
    kind = data.get("kind")
    if kind not in LOCATION_KINDS:
        raise InvalidMeetingType(f"location.kind must be one of {', '.join(LOCATION_KINDS)}, got {kind!r}")
    value = data.get("value")
    if value is not None and not isinstance(value, str):
        raise InvalidMeetingType("location.value must be a string or null")
    value = value.strip() if value else None
    if value is not None and any(ord(ch) < 32 and ch not in "\t" for ch in value):
        raise InvalidMeetingType("location.value must be one line without control characters")
    if kind == "link":
        return Location("link", _check_link(value))
    if kind == "in_person":
        if not value:
            raise InvalidMeetingType("location.value: an in_person location needs the address")
        if len(value) > ADDRESS_MAX_LENGTH:
            raise InvalidMeetingType(f"location.value: the address has at most {ADDRESS_MAX_LENGTH} characters")
        return Location("in_person", value)
    if kind == "phone":
        if value is not None and (problem := phone_problem(value)) is not None:
            raise InvalidMeetingType(f"location.value: {problem}")
        return Location("phone", value)
    if value is not None:
        raise InvalidMeetingType(f"location.value must be null for {kind}")
    return Location(cast(LocationKind, kind))


def _check_link(value: str | None) -> str:
    if not value:
        raise InvalidMeetingType("location.value: a link location needs its https URL")
    if len(value) > LINK_MAX_LENGTH:
        raise InvalidMeetingType(f"location.value: the URL has at most {LINK_MAX_LENGTH} characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidMeetingType("location.value is not a valid URL") from None
    if parts.scheme != "https" or not parts.hostname or any(ch.isspace() for ch in value):
        raise InvalidMeetingType("location.value must be an absolute https:// URL")
    return value


def check_location_for_agent(session: Session, *, agent_id: int, raw: object) -> Location:
    """check_location, plus: `google_meet` only for an agent with a connected Google Calendar."""
    location = check_location(raw)
    if location.kind == "google_meet" and not google_connected(session, agent_id=agent_id):
        raise InvalidMeetingType(
            "location.kind google_meet needs a connected Google Calendar (the Meet link is created with the "
            "calendar event): connect Google Calendar first"
        )
    return location


def check_location_for_agents(session: Session, *, agent_ids: Sequence[int], raw: object) -> Location:
    """check_location for a team's type: `google_meet` only when every member has a connected Google
    Calendar (whoever takes the call creates the Meet link with their calendar event)."""
    location = check_location(raw)
    if location.kind == "google_meet":
        missing = [agent_id for agent_id in agent_ids if not google_connected(session, agent_id=agent_id)]
        if missing:
            raise InvalidMeetingType(
                "location.kind google_meet needs a connected Google Calendar for every member (the Meet link is "
                f"created with the calendar event): agent {', '.join(map(str, missing))} has none"
            )
    return location


def link_host_label(url: str) -> str:
    """What a `link` location is called by its host: "Zoom link" for zoom.us, else the host name."""
    host = (urlsplit(url).hostname or "").lower()
    known = {"zoom.us": "Zoom", "teams.microsoft.com": "Microsoft Teams", "meet.google.com": "Google Meet"}
    for domain, name in known.items():
        if host == domain or host.endswith("." + domain):
            return f"{name} link"
    return host.removeprefix("www.") or KIND_LABELS["link"]

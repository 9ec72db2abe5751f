"""Read side of contacts: search, and a contact's profile (booked times and event timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from shared.errors import InvalidInput, NotFound
from shared.models import Agent, Booking, Contact, Event, MeetingType, Visitor

SEARCH_LIMIT_MAX = 500
TIMELINE_LIMIT_MAX = 5000


@dataclass(frozen=True)
class BookedTime:
    booking_id: int
    start: datetime
    end: datetime
    status: str
    invitee_timezone: str
    meeting_type_id: int
    meeting_type_name: str
    duration_minutes: int
    agent_id: int
    agent_name: str
    cancelled_at: datetime | None
    phone: str | None = None  # the phone the invitee gave with this booking (phone types)
    location_kind: str = "none"


@dataclass(frozen=True)
class TimelineEntry:
    """One event on the timeline, with its context (who, which type, which widget session)."""

    id: int
    name: str
    attributes: dict[str, Any]
    occurred_at: datetime
    agent_id: int | None
    agent_name: str | None
    meeting_type_id: int | None
    meeting_type_name: str | None
    booking_id: int | None
    session_id: str | None
    visitor_id: str | None
    chosen_date: str | None
    chosen_start: datetime | None


@dataclass(frozen=True)
class ContactProfile:
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    created_at: datetime
    visitor_ids: list[str]
    bookings: list[BookedTime]  # newest start first
    timeline: list[TimelineEntry]  # newest first


def _contains(column: ColumnElement[Any] | InstrumentedAttribute[Any], needle: str) -> ColumnElement[bool]:
    # lower() on both sides: case-insensitive on SQLite and PostgreSQL alike; % and _ are literal.
    return func.lower(func.coalesce(column, "")).contains(needle.lower(), autoescape=True)


def search_contacts(
    session: Session,
    *,
    query: str | None = None,
    email: str | None = None,
    limit: int = 20,
    offset: int = 0,
    include_anonymous: bool = False,
) -> list[Contact]:
    """Contacts matching both filters, most recently updated first.

    `email` matches the whole address, ignoring case and surrounding spaces; `query` matches a
    substring of the email, first name, last name, "first last" or company. With neither, the
    latest contacts; anonymous ones (no email yet) only with include_anonymous.
    """
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise InvalidInput(f"limit must be from 1 to {SEARCH_LIMIT_MAX}, got {limit}")
    if offset < 0:
        raise InvalidInput(f"offset must be 0 or more, got {offset}")
    statement = select(Contact)
    if email is not None and email.strip():
        statement = statement.where(func.lower(Contact.email) == email.strip().lower())
    if query is not None and query.strip():
        needle = query.strip()
        full_name = func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")
        statement = statement.where(
            or_(
                _contains(Contact.email, needle),
                _contains(Contact.first_name, needle),
                _contains(Contact.last_name, needle),
                _contains(full_name, needle),
                _contains(Contact.company, needle),
            )
        )
    if not include_anonymous:
        statement = statement.where(Contact.email.is_not(None))
    statement = statement.order_by(Contact.updated_at.desc(), Contact.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(statement))


def _booked_times(session: Session, *, contact_id: int) -> list[BookedTime]:
    bookings = session.scalars(
        select(Booking).where(Booking.contact_id == contact_id).order_by(Booking.start_at.desc(), Booking.id.desc())
    )
    return [
        BookedTime(
            booking_id=b.id,
            start=b.start_at,
            end=b.end_at,
            status=b.status,
            invitee_timezone=b.invitee_timezone,
            meeting_type_id=b.meeting_type_id,
            meeting_type_name=b.meeting_type.name,
            duration_minutes=b.meeting_type.duration_minutes,
            agent_id=b.agent_id,
            agent_name=b.agent.name,
            cancelled_at=b.cancelled_at,
            phone=b.phone,
            location_kind=b.location_kind,
        )
        for b in bookings
    ]


def _timeline(session: Session, *, contact_id: int, visitor_ids: list[str], limit: int) -> list[TimelineEntry]:
    # Events of the contact, and events of its visitors that were never tied to a contact row.
    belongs = Event.contact_id == contact_id
    if visitor_ids:
        belongs = or_(belongs, and_(Event.contact_id.is_(None), Event.visitor_id.in_(visitor_ids)))
    rows = session.execute(
        select(Event, Agent.name, MeetingType.name)
        .outerjoin(Agent, Agent.id == Event.agent_id)
        .outerjoin(MeetingType, MeetingType.id == Event.meeting_type_id)
        .where(belongs)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return [
        TimelineEntry(
            id=event.id,
            name=event.name,
            attributes=dict(event.attributes or {}),
            occurred_at=event.occurred_at,
            agent_id=event.agent_id,
            agent_name=agent_name,
            meeting_type_id=event.meeting_type_id,
            meeting_type_name=meeting_type_name,
            booking_id=event.booking_id,
            session_id=event.session_id,
            visitor_id=event.visitor_id,
            chosen_date=event.chosen_date,
            chosen_start=event.chosen_start,
        )
        for event, agent_name, meeting_type_name in rows
    ]


def contact_profile(session: Session, *, contact_id: int, timeline_limit: int = 500) -> ContactProfile:
    """The contact, their booked times (newest first) and their event timeline (newest first).

    The timeline includes the step events a visitor posted while still anonymous: booking merges the
    visitor into the contact, and its events move with it.
    """
    if not 1 <= timeline_limit <= TIMELINE_LIMIT_MAX:
        raise InvalidInput(f"timeline_limit must be from 1 to {TIMELINE_LIMIT_MAX}, got {timeline_limit}")
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact not found")
    visitor_ids = list(
        session.scalars(select(Visitor.id).where(Visitor.contact_id == contact.id).order_by(Visitor.created_at))
    )
    return ContactProfile(
        id=contact.id,
        email=contact.email,
        first_name=contact.first_name,
        last_name=contact.last_name,
        company=contact.company,
        created_at=contact.created_at,
        visitor_ids=visitor_ids,
        bookings=_booked_times(session, contact_id=contact.id),
        timeline=_timeline(session, contact_id=contact.id, visitor_ids=visitor_ids, limit=timeline_limit),
    )

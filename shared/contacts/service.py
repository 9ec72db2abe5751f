"""Contacts (end users), anonymous visitors, and the events on their timeline."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.agents.service import get_bookable_meeting_type
from shared.db import dialect_name, upsert_insert
from shared.funnel.rollup import record_step
from shared.models import Booking, Contact, Event, Team, Visitor
from shared.notifications.webhooks import plan_event_webhooks
from shared.steps.errors import UnknownEvent
from shared.steps.names import CLIENT_STEP_EVENTS
from shared.teams.links import resolve_link
from shared.teams.service import get_bookable_team_meeting_type
from shared.timezones import parse_date


def contact_for_visitor(session: Session, *, visitor_id: str) -> Contact:
    """The contact a visitor id belongs to; an anonymous contact is created on first sight.

    Two first requests of one new visitor can race to create it: the loser's insert fails on the
    visitor's primary key inside a savepoint, and it then reads the winner's row instead of failing.
    """
    visitor = session.get(Visitor, visitor_id)
    if visitor is not None:
        contact = session.get(Contact, visitor.contact_id)
        if contact is not None:
            return contact
    try:
        with session.begin_nested():
            contact = Contact()
            session.add(contact)
            session.flush()
            if visitor is None:
                session.add(Visitor(id=visitor_id, contact_id=contact.id))
            else:
                visitor.contact_id = contact.id
            session.flush()
        return contact
    except IntegrityError:
        winner = session.get(Visitor, visitor_id, populate_existing=True)
        if winner is None:
            raise
        return session.get_one(Contact, winner.contact_id)


_DETAILS = ("email", "first_name", "last_name", "company")


@cache
def _contact_upsert(dialect: str) -> Any:
    """`INSERT … ON CONFLICT (email) DO UPDATE … RETURNING` for this dialect, built once."""
    columns = Contact.__table__.c
    now = bindparam("p_now", type_=columns.created_at.type)  # parameter names may not be column names
    statement = upsert_insert(dialect, Contact).values(
        {name: bindparam(f"p_{name}", type_=columns[name].type) for name in _DETAILS}
        | {"created_at": now, "updated_at": now}
    )
    new, old = statement.excluded, columns
    changed = or_(*(new[name].is_distinct_from(old[name]) for name in ("first_name", "last_name", "company")))
    return statement.on_conflict_do_update(
        index_elements=["email"],
        set_={
            "first_name": new.first_name,
            "last_name": new.last_name,
            "company": new.company,
            # As the ORM's onupdate did: touched only when a detail changed.
            "updated_at": case((changed, new.updated_at), else_=old.updated_at),
        },
    ).returning(Contact)


def _upsert_contact(
    session: Session, *, email: str, first_name: str, last_name: str, company: str, now: datetime
) -> Contact:
    """The contact with this email, created or updated with these details in one statement.

    `INSERT … ON CONFLICT (email) DO UPDATE … RETURNING` (PostgreSQL and SQLite ≥ 3.35): safe against
    a concurrent creation of the same email without a savepoint, and one round trip where a look-up,
    a savepoint, an insert and an update were four or five.
    """
    statement = _contact_upsert(dialect_name(session))
    values: dict[str, Any] = {
        "p_email": email,
        "p_first_name": first_name,
        "p_last_name": last_name,
        "p_company": company,
        "p_now": now,
    }
    contact: Contact = session.scalars(statement, values, execution_options={"populate_existing": True}).one()
    return contact


def identify_contact(
    session: Session,
    *,
    email: str,
    first_name: str,
    last_name: str,
    company: str,
    visitor_id: str | None,
    now: datetime,
) -> Contact:
    """The contact with this email, updated with the submitted details.

    When the visitor was anonymous until now, its anonymous contact is merged into the one with the
    email: the visitor and its timeline move over and the anonymous contact is removed.
    """
    if visitor_id is None:
        # No visitor to merge (bookings through the API without the widget): one upsert does it all.
        return _upsert_contact(
            session, email=email, first_name=first_name, last_name=last_name, company=company, now=now
        )
    known = session.scalar(select(Contact).where(Contact.email == email))
    anonymous: Contact | None = None
    # Held here so it stays in the identity map (which holds objects weakly): the look-ups of the
    # visitor below then cost no statement.
    visitor = session.get(Visitor, visitor_id)
    visitor_contact = contact_for_visitor(session, visitor_id=visitor_id)
    if known is None and visitor_contact.email is None:
        known = visitor_contact  # the anonymous visitor simply becomes this contact
    elif visitor_contact.email is None and (known is None or visitor_contact.id != known.id):
        anonymous = visitor_contact
    if known is None:
        known = _upsert_contact(
            session, email=email, first_name=first_name, last_name=last_name, company=company, now=now
        )
    known.email = email
    known.first_name = first_name
    known.last_name = last_name
    known.company = company
    if anonymous is not None:
        _merge_into(session, source=anonymous, target=known)
    visitor = visitor or session.get(Visitor, visitor_id)
    if visitor is None:
        session.add(Visitor(id=visitor_id, contact_id=known.id))
    else:
        visitor.contact_id = known.id
    session.flush()
    return known


def _merge_into(session: Session, *, source: Contact, target: Contact) -> None:
    session.execute(update(Event).where(Event.contact_id == source.id).values(contact_id=target.id))
    session.execute(update(Visitor).where(Visitor.contact_id == source.id).values(contact_id=target.id))
    session.execute(update(Booking).where(Booking.contact_id == source.id).values(contact_id=target.id))
    session.flush()
    session.delete(source)
    session.flush()


def record_event(
    session: Session,
    *,
    name: str,
    contact_id: int | None,
    attributes: dict[str, Any] | None = None,
    agent_id: int | None = None,
    meeting_type_id: int | None = None,
    booking_id: int | None = None,
    session_id: str | None = None,
    visitor_id: str | None = None,
    chosen_date: str | None = None,
    chosen_start: datetime | None = None,
    occurred_at: datetime,
    flush: bool = True,
    team_id: int | None = None,
    now: datetime | None = None,
) -> Event:
    """Add an event to the contact's timeline (and its step to the funnel rollup).

    flush=False leaves the INSERT to the caller's next flush, so several events of one cause go
    in one statement; the event has no id until then. `now` (default occurred_at) is the clock of
    a caller recording history (shared.funnel.rollup.record_step marks the days it changes).
    """
    event = Event(
        name=name,
        attributes=attributes or {},
        contact_id=contact_id,
        agent_id=agent_id,
        team_id=team_id,
        meeting_type_id=meeting_type_id,
        booking_id=booking_id,
        session_id=session_id,
        visitor_id=visitor_id,
        chosen_date=chosen_date,
        chosen_start=chosen_start,
        occurred_at=occurred_at,
    )
    session.add(event)
    if flush:
        session.flush()
    if session_id is not None:
        # Same transaction: the funnel's per-session rollup never disagrees with the events. The
        # upsert does not read the events, so it need not flush a deferred event before it.
        with session.no_autoflush:
            record_step(
                session,
                name=name,
                session_id=session_id,
                occurred_at=event.occurred_at,
                agent_id=agent_id,
                meeting_type_id=meeting_type_id,
                team_id=team_id,
                now=now,
            )
    return event


def record_widget_step(
    session: Session,
    *,
    name: str,
    link: str,
    visitor_id: str,
    session_id: str,
    meeting_type_id: int | None,
    chosen_date: str | None,
    chosen_start: datetime | None,
    now: datetime,
) -> Event:
    """Record a funnel step the widget reports (`calendar_1st_step` … `calendar_3rd_step`).

    Refused in this order: UnknownEvent for any other name (step 4 and the booking events are the
    server's), LinkNotFound, MeetingTypeNotFound (inactive, deleted or another agent's type),
    InvalidInput for a date that is not YYYY-MM-DD. The visitor gets an anonymous contact on first
    sight; subscribed webhook endpoints get the step in the same transaction.
    """
    if name not in CLIENT_STEP_EVENTS:
        raise UnknownEvent(name)
    # An agent's link or a team's (SPEC §15): a team's steps name the team, and no agent yet.
    owner = resolve_link(session, link=link)
    agent_id, team_id = (None, owner.id) if isinstance(owner, Team) else (owner.id, None)
    if meeting_type_id is not None:
        meeting_type_id = (
            get_bookable_team_meeting_type(session, team=owner, meeting_type_id=meeting_type_id).id
            if isinstance(owner, Team)
            else get_bookable_meeting_type(session, agent=owner, meeting_type_id=meeting_type_id).id
        )
    day = parse_date(chosen_date).isoformat() if chosen_date is not None else None
    contact = contact_for_visitor(session, visitor_id=visitor_id)
    event = record_event(
        session,
        name=name,
        contact_id=contact.id,
        agent_id=agent_id,
        team_id=team_id,
        meeting_type_id=meeting_type_id,
        session_id=session_id,
        visitor_id=visitor_id,
        chosen_date=day,
        chosen_start=chosen_start,
        occurred_at=now,
    )
    plan_event_webhooks(session, event=event, now=now)
    return event

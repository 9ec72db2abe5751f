"""Contacts (the people who booked) as the actor may see them.

A manager sees every contact and their whole timeline. An agent sees the contacts who went through
their booking widget or booked them, and on a profile only the bookings and events with themselves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import CompoundSelect, select, union
from sqlalchemy.orm import Session

from shared.accounts.permissions import Actor, visible_agent_ids
from shared.contacts import queries
from shared.errors import NotFound
from shared.models import Booking, Contact, Event


def _contact_ids_of(session: Session, agent_ids: list[int]) -> set[int]:
    statement: CompoundSelect[Any] = union(
        select(Event.contact_id).where(Event.agent_id.in_(agent_ids), Event.contact_id.is_not(None)),
        select(Booking.contact_id).where(Booking.agent_id.in_(agent_ids)),
    )
    return {int(row[0]) for row in session.execute(statement) if row[0] is not None}


def search_contacts(
    session: Session, *, actor: Actor, query: str | None, email: str | None = None, limit: int = 50
) -> list[Contact]:
    """Contacts whose email, name or company contains `query` (all recent ones when empty), and
    whose whole address is `email` when given; an agent's search looks at the latest
    `SEARCH_LIMIT_MAX` matches and keeps theirs."""
    allowed = visible_agent_ids(actor)
    if allowed is None:
        return queries.search_contacts(session, query=query, email=email, limit=limit)
    mine = _contact_ids_of(session, allowed)
    found = queries.search_contacts(session, query=query, email=email, limit=queries.SEARCH_LIMIT_MAX)
    return [contact for contact in found if contact.id in mine][:limit]


def _profile(session: Session, *, contact_id: int, allowed: list[int] | None) -> queries.ContactProfile:
    profile = queries.contact_profile(session, contact_id=contact_id)
    if allowed is None:
        return profile
    return dataclasses.replace(
        profile,
        bookings=[b for b in profile.bookings if b.agent_id in allowed],
        timeline=[e for e in profile.timeline if e.agent_id in allowed],
    )


def contact_profile(session: Session, *, actor: Actor, contact_id: int) -> queries.ContactProfile:
    """The contact with booked times and the event timeline; for an agent only what concerns them."""
    allowed = visible_agent_ids(actor)
    if allowed is not None and contact_id not in _contact_ids_of(session, allowed):
        raise NotFound("contact not found")
    return _profile(session, contact_id=contact_id, allowed=allowed)


def contact_profiles(
    session: Session, *, actor: Actor, query: str | None, email: str | None, limit: int
) -> list[queries.ContactProfile]:
    """The profiles of `search_contacts`' answer, each as `contact_profile` shows it to the actor."""
    allowed = visible_agent_ids(actor)
    found = search_contacts(session, actor=actor, query=query, email=email, limit=limit)
    return [_profile(session, contact_id=contact.id, allowed=allowed) for contact in found]

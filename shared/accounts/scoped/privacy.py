"""Export and erasure of a contact as the actor may do them.

A manager (or the admin token) exports and erases any contact. An agent only those who booked
with them; the export then holds only what concerns that agent. A contact the agent cannot see at
all looks missing (404); one who used their widget but booked someone else is refused (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts.permissions import Actor, is_manager, visible_agent_ids
from shared.accounts.scoped.contacts import _contact_ids_of
from shared.errors import Forbidden, NotFound
from shared.models import Booking, ContactErasure
from shared.privacy import service


class NotYourContact(Forbidden):
    def __init__(self) -> None:
        super().__init__("agents may only export or erase the contacts who booked with them")


def _require_own_contact(session: Session, *, actor: Actor, contact_id: int) -> list[int] | None:
    allowed = visible_agent_ids(actor)
    if allowed is None:
        return None
    booked = session.scalar(
        select(Booking.id).where(Booking.contact_id == contact_id, Booking.agent_id.in_(allowed)).limit(1)
    )
    if booked is None:
        if contact_id in _contact_ids_of(session, allowed):
            raise NotYourContact()
        raise NotFound("contact not found")
    return allowed


def describe_actor(actor: Actor) -> str:
    """Who erased, for the erasure record: never the contact's data, and no more than an id."""
    if actor.id == 0:
        return "admin token"
    return f"agent {actor.id} ({'manager' if is_manager(actor) else 'agent'})"


def export_contact(session: Session, *, actor: Actor, contact_id: int) -> dict[str, Any]:
    """Everything stored about the contact (for an agent: what concerns them) as JSON values."""
    allowed = _require_own_contact(session, actor=actor, contact_id=contact_id)
    return service.export_contact(session, contact_id=contact_id, agent_ids=allowed)


def erase_contact(session: Session, *, actor: Actor, contact_id: int, now: datetime) -> ContactErasure:
    """Cancel the contact's future bookings, then erase their personal data; record who did it."""
    _require_own_contact(session, actor=actor, contact_id=contact_id)
    return service.erase_contact(session, contact_id=contact_id, now=now, erased_by=describe_actor(actor))

"""Bookings as the actor may see and cancel them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts.permissions import Actor, is_manager, require_can_manage_agent, visible_agent_ids
from shared.availability.busy import of_agent
from shared.booking import service as booking_service
from shared.booking.errors import BookingNotFound
from shared.models import STATUS_CONFIRMED, Booking
from shared.reports import bookings as reports

DEFAULT_LIMIT = 200


def upcoming_bookings(
    session: Session, *, actor: Actor, now: datetime, agent_id: int | None = None, limit: int = DEFAULT_LIMIT
) -> list[Booking]:
    """Confirmed bookings that have not ended yet, soonest first: of one agent, or of all the actor may see."""
    query = select(Booking).where(Booking.status == STATUS_CONFIRMED, Booking.end_at > now)
    if agent_id is not None:
        require_can_manage_agent(actor, agent_id)
        query = query.where(of_agent(agent_id))  # with the collective team bookings they host
    else:
        allowed = visible_agent_ids(actor)
        if allowed is not None:
            query = query.where(Booking.agent_id.in_(allowed))
    return list(session.scalars(query.order_by(Booking.start_at, Booking.id).limit(limit)))


def get_booking(session: Session, *, actor: Actor, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise BookingNotFound()
    require_can_manage_agent(actor, booking.agent_id)
    return booking


def cancel_booking(session: Session, *, actor: Actor, booking_id: int, reason: str | None, now: datetime) -> Booking:
    """Cancel as the booking page would: timeline event, emails and calendar deletion planned in the outbox."""
    booking = get_booking(session, actor=actor, booking_id=booking_id)
    return booking_service.cancel_booking(session, booking=booking, reason=reason or None, now=now)


def booking_page(
    session: Session,
    *,
    actor: Actor,
    agent_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> reports.BookingPage:
    """`shared.reports.bookings.list_bookings`: a manager's of any agent or all; an agent's always their own."""
    if not is_manager(actor):
        agent_id = actor.id if agent_id is None else agent_id
        require_can_manage_agent(actor, agent_id)
    return reports.list_bookings(
        session, agent_id=agent_id, start=start, end=end, status=status, limit=limit, offset=offset
    )

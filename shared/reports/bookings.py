"""Bookings as managers list them: by agent, time range and status, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.agents.service import get_agent
from shared.availability.busy import of_agent
from shared.errors import InvalidInput
from shared.models import STATUS_CANCELLED, STATUS_CONFIRMED, Booking

BOOKING_STATUSES: tuple[str, ...] = (STATUS_CONFIRMED, STATUS_CANCELLED)
PAGE_LIMIT_MAX = 500


@dataclass(frozen=True)
class BookingPage:
    items: list[Booking]  # by start time, then id
    total: int  # matching bookings across all pages
    limit: int
    offset: int


def list_bookings(
    session: Session,
    *,
    agent_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str | None = None,
    contact_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> BookingPage:
    """Bookings overlapping [start, end) — a call running across `start` is still shown.

    InvalidInput for naive or reversed times, an unknown status or a limit outside 1..500;
    AgentNotFound for an unknown agent.
    """
    for label, moment in (("from", start), ("to", end)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput(f"{label} must carry a UTC offset, e.g. 2026-06-01T00:00:00Z")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to must be after from")
    if status is not None and status not in BOOKING_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(BOOKING_STATUSES)}, got {status!r}")
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(f"limit must be from 1 to {PAGE_LIMIT_MAX}, got {limit}")
    if offset < 0:
        raise InvalidInput(f"offset must be 0 or more, got {offset}")
    if agent_id is not None:
        get_agent(session, agent_id=agent_id)

    conditions = []
    if agent_id is not None:
        conditions.append(of_agent(agent_id))  # a collective booking is in each member's list
    if start is not None:
        conditions.append(Booking.end_at > start)
    if end is not None:
        conditions.append(Booking.start_at < end)
    if status is not None:
        conditions.append(Booking.status == status)
    if contact_id is not None:
        conditions.append(Booking.contact_id == contact_id)
    total = session.scalar(select(func.count()).select_from(Booking).where(*conditions)) or 0
    items = session.scalars(
        select(Booking).where(*conditions).order_by(Booking.start_at, Booking.id).limit(limit).offset(offset)
    )
    return BookingPage(items=list(items.unique()), total=total, limit=limit, offset=offset)

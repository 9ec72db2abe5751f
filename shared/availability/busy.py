"""Where busy times come from. Local bookings always; connected calendars plug in here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.availability.rules import Interval
from shared.models import STATUS_CONFIRMED, Agent, Booking


class BusyTimeSource(ABC):
    """A provider of busy intervals for one agent. `fresh=True` means no cache (booking time)."""

    @abstractmethod
    def busy_intervals(
        self, session: Session, *, agent: Agent, start: datetime, end: datetime, fresh: bool
    ) -> list[Interval]: ...


def confirmed_bookings_between(
    session: Session, *, agent_id: int, start: datetime, end: datetime, exclude_booking_id: int | None = None
) -> Sequence[Booking]:
    query = select(Booking).where(
        Booking.agent_id == agent_id,
        Booking.status == STATUS_CONFIRMED,
        Booking.start_at < end,
        Booking.end_at > start,
    )
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    return session.scalars(query.order_by(Booking.start_at)).all()


class LocalBookingsSource(BusyTimeSource):
    """The agent's confirmed bookings of every meeting type."""

    def __init__(self, exclude_booking_id: int | None = None) -> None:
        # A reschedule must not collide with the booking it moves.
        self.exclude_booking_id = exclude_booking_id

    def busy_intervals(
        self, session: Session, *, agent: Agent, start: datetime, end: datetime, fresh: bool
    ) -> list[Interval]:
        rows = session.execute(
            select(Booking.start_at, Booking.end_at).where(
                Booking.agent_id == agent.id,
                Booking.status == STATUS_CONFIRMED,
                Booking.start_at < end,
                Booking.end_at > start,
                *([Booking.id != self.exclude_booking_id] if self.exclude_booking_id is not None else []),
            )
        ).all()
        return [Interval(row.start_at, row.end_at) for row in rows]


def _subtract(intervals: list[Interval], hole: Interval) -> list[Interval]:
    remaining: list[Interval] = []
    for interval in intervals:
        if interval.end <= hole.start or interval.start >= hole.end:
            remaining.append(interval)
            continue
        if interval.start < hole.start:
            remaining.append(Interval(interval.start, hole.start))
        if interval.end > hole.end:
            remaining.append(Interval(hole.end, interval.end))
    return remaining


class ExcludingBooking(BusyTimeSource):
    """A source seen as if one booking did not exist: a reschedule must not collide with itself.

    Local bookings drop it by id. A calendar only reports merged busy periods without ids, and the
    booking's own event is among them, so its old time is cut out of what the calendar reports.
    """

    def __init__(self, source: BusyTimeSource, booking: Booking) -> None:
        self.source = LocalBookingsSource(booking.id) if isinstance(source, LocalBookingsSource) else source
        self.own_time = Interval(booking.start_at, booking.end_at)

    def busy_intervals(
        self, session: Session, *, agent: Agent, start: datetime, end: datetime, fresh: bool
    ) -> list[Interval]:
        intervals = self.source.busy_intervals(session, agent=agent, start=start, end=end, fresh=fresh)
        if isinstance(self.source, LocalBookingsSource):
            return intervals
        return _subtract(intervals, self.own_time)

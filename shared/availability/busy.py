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

    @property
    def local(self) -> bool:
        """True for busy times read from this database (the agent's bookings): no network and no
        cache, so exact and cheap. A booking checks local sources once more before it takes the
        agent's lock (a fast 409 for the losers of a race), and availability reads them over exactly
        the range a slot can touch, where a remote source gets a wider range its cache can reuse."""
        return False

    @abstractmethod
    def busy_intervals(
        self, session: Session, *, agent: Agent, start: datetime, end: datetime, fresh: bool
    ) -> list[Interval]: ...

    def excluding(self, booking: Booking) -> BusyTimeSource:
        """This source as if `booking` did not exist: a reschedule must not collide with itself.

        By default (a calendar reports merged busy periods without ids, and the booking's own event
        is among them) the booking's old time is cut out of what the source reports.
        """
        return ExcludingBooking(self, booking)


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
        self.exclude_booking_id = exclude_booking_id

    @property
    def local(self) -> bool:
        return True

    def excluding(self, booking: Booking) -> BusyTimeSource:
        """Local bookings drop it by id."""
        return LocalBookingsSource(booking.id)

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
    """A source seen without one booking's time (the default of BusyTimeSource.excluding)."""

    def __init__(self, source: BusyTimeSource, booking: Booking) -> None:
        self.source = source
        self.own_time = Interval(booking.start_at, booking.end_at)

    def busy_intervals(
        self, session: Session, *, agent: Agent, start: datetime, end: datetime, fresh: bool
    ) -> list[Interval]:
        intervals = self.source.busy_intervals(session, agent=agent, start=start, end=end, fresh=fresh)
        return _subtract(intervals, self.own_time)

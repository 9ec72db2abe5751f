"""Where busy times come from. Local bookings always; connected calendars plug in here."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from shared.agents.schemas import BUFFER_MAX_MINUTES, DURATION_RANGE
from shared.availability.cache import DriverReads
from shared.availability.engine import occupied_time
from shared.availability.rules import BookedTime, Busy, Interval
from shared.models import STATUS_CONFIRMED, Agent, Availability, Booking, BookingHost, MeetingType

# No booking is longer than the longest meeting type, nor padded by more than the largest buffer: a
# booking whose occupied time can touch [start, end) starts after start − both, which bounds the
# index range scanned (ix_bookings_agent_id_start_at) to what the range needs, not the history.
_LONGEST_BOOKING = timedelta(minutes=DURATION_RANGE[1])
_LARGEST_BUFFER = timedelta(minutes=BUFFER_MAX_MINUTES)


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
    ) -> Sequence[Busy]:
        """What occupies the agent's time in [start, end): calendar blocks as `Interval`, bookings
        as `BookedTime` with their own buffers (the engine pads them, shared.availability.engine)."""

    @property
    def needs_calendar_connection(self) -> bool:
        """True for a source that reports nothing for an agent without a calendar connection (Google):
        availability read without ORM entities (shared.availability.service.read_agent) may then
        leave it out. False by default: an unknown source is always asked, on the ORM path."""
        return False

    def excluding(self, booking: Booking) -> BusyTimeSource:
        """This source as if `booking` did not exist: a reschedule must not collide with itself.

        By default (a calendar reports merged busy periods without ids, and the booking's own event
        is among them) the booking's old time is cut out of what the source reports.
        """
        return ExcludingBooking(self, booking)


def of_agent(agent_id: int) -> ColumnElement[bool]:
    """Bookings that take the agent's time: their own, and collective team bookings they host
    (shared.models.BookingHost). Every per-agent read of bookings filters with this."""
    hosted = select(BookingHost.booking_id).where(BookingHost.agent_id == agent_id)
    return or_(Booking.agent_id == agent_id, Booking.id.in_(hosted))


def agents_bookings_query(
    agent_id: int | BindParameter[int],
    columns: Sequence[Any],
    conditions: Sequence[ColumnElement[bool]],
    *,
    join: tuple[Any, ColumnElement[bool]] | None = None,
) -> CompoundSelect[Any]:
    """The agent's bookings matching `conditions` as one statement: their own, UNION ALL the
    collective bookings they host. Two branches rather than `of_agent`'s OR, so each runs on its
    index (ix_bookings_agent_id_start_at; ix_booking_hosts_agent_id_booking_id and the primary key)
    on both databases: the hot reads (busy times, the daily maximum) stay bounded by what the range
    holds. A booking is in one branch only (its agent is never one of its hosts)."""

    def branch() -> Select[Any]:
        query = select(*columns).select_from(Booking)
        return query.join(*join) if join is not None else query

    own = branch().where(Booking.agent_id == agent_id, *conditions)
    hosted = (
        branch()
        .join(BookingHost, BookingHost.booking_id == Booking.id)
        .where(BookingHost.agent_id == agent_id, *conditions)
    )
    return union_all(own, hosted)


def confirmed_bookings_between(
    session: Session, *, agent_id: int, start: datetime, end: datetime, exclude_booking_id: int | None = None
) -> Sequence[Booking]:
    query = select(Booking).where(
        of_agent(agent_id),
        Booking.status == STATUS_CONFIRMED,
        Booking.start_at < end,
        Booking.end_at > start,
    )
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    return session.scalars(query.order_by(Booking.start_at)).all()


def _buffers(availability: Availability, before: int | None, after: int | None) -> tuple[timedelta, timedelta]:
    """A booking's buffers: its meeting type's own, as the type is now; the agent's where it has none."""
    return (
        timedelta(minutes=availability.buffer_before_minutes if before is None else before),
        timedelta(minutes=availability.buffer_after_minutes if after is None else after),
    )


def booked_time(booking: Booking, availability: Availability) -> BookedTime:
    """A booking read as busy time, with its own buffers (the week view draws them)."""
    meeting_type = booking.meeting_type
    before, after = _buffers(availability, meeting_type.buffer_before_minutes, meeting_type.buffer_after_minutes)
    return BookedTime(booking.start_at, booking.end_at, before, after)


_NO_BOOKING = 0  # no booking has id 0: "excluding none"

# The hot read of availability and of every booking, built once with bound parameters (building and
# cache-keying the UNION per call cost more CPU than running it): the confirmed bookings whose
# occupied time can touch a range, with their types' buffers. (The parameters take their columns' types.)
_LOCAL_BUSY = agents_bookings_query(
    bindparam("agent_id"),
    (Booking.start_at, Booking.end_at, MeetingType.buffer_before_minutes, MeetingType.buffer_after_minutes),
    (
        Booking.status == STATUS_CONFIRMED,
        Booking.start_at > bindparam("earliest_start"),
        Booking.start_at < bindparam("latest_start"),
        Booking.end_at > bindparam("earliest_end"),
        Booking.id != bindparam("excluded_id"),
    ),
    join=(MeetingType, MeetingType.id == Booking.meeting_type_id),
)


def _local_busy_params(
    *, agent_id: int, start: datetime, end: datetime, exclude_booking_id: int | None
) -> dict[str, Any]:
    return {
        "agent_id": agent_id,
        "earliest_start": start - _LARGEST_BUFFER - _LONGEST_BOOKING,
        "latest_start": end + _LARGEST_BUFFER,
        "earliest_end": start - _LARGEST_BUFFER,
        "excluded_id": exclude_booking_id if exclude_booking_id is not None else _NO_BOOKING,
    }


def _booked_in_range(
    rows: Sequence[Any], *, buffer_before: int, buffer_after: int, start: datetime, end: datetime
) -> list[BookedTime]:
    """`_LOCAL_BUSY`'s rows as busy time (a type without its own buffers takes the agent's,
    `buffer_before` / `buffer_after` minutes), those whose occupied time touches [start, end)."""
    agent_before, agent_after = timedelta(minutes=buffer_before), timedelta(minutes=buffer_after)
    booked: list[BookedTime] = []
    for booking_start, booking_end, type_before, type_after in rows:
        item = BookedTime(
            booking_start,
            booking_end,
            agent_before if type_before is None else timedelta(minutes=type_before),
            agent_after if type_after is None else timedelta(minutes=type_after),
        )
        occupied = occupied_time(item)
        if occupied.start < end and occupied.end > start:
            booked.append(item)
    return booked


def local_booked_times(
    reads: DriverReads, *, agent_id: int, buffer_before: int, buffer_after: int, start: datetime, end: datetime
) -> list[BookedTime]:
    """What LocalBookingsSource reports, read on a driver connection without ORM entities: the
    agent's confirmed bookings whose occupied time touches [start, end). `buffer_before` /
    `buffer_after`: the agent's own, in minutes (a booking of a type without its own takes them)."""
    params = _local_busy_params(agent_id=agent_id, start=start, end=end, exclude_booking_id=None)
    rows = reads.rows(_LOCAL_BUSY, params)
    return _booked_in_range(rows, buffer_before=buffer_before, buffer_after=buffer_after, start=start, end=end)


def reads_without_entities(sources: Sequence[BusyTimeSource], *, has_calendar_connection: bool) -> bool:
    """Whether `local_booked_times` is all that `sources` would report for an agent: each of them the
    plain local bookings (no booking excluded), or a source that needs a calendar connection the
    agent does not have."""
    return all(
        (type(source) is LocalBookingsSource and source.exclude_booking_id is None)
        or (source.needs_calendar_connection and not has_calendar_connection)
        for source in sources
    )


class LocalBookingsSource(BusyTimeSource):
    """The agent's confirmed bookings of every meeting type, each with its own type's buffers (as
    the type is now; a type without its own takes the agent's), those whose occupied time touches
    the range asked for."""

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
    ) -> list[BookedTime]:
        params = _local_busy_params(agent_id=agent.id, start=start, end=end, exclude_booking_id=self.exclude_booking_id)
        rows = session.execute(_LOCAL_BUSY, params).all()
        availability = agent.availability
        return _booked_in_range(
            rows,
            buffer_before=availability.buffer_before_minutes,
            buffer_after=availability.buffer_after_minutes,
            start=start,
            end=end,
        )


def _subtract(intervals: Sequence[Busy], hole: Interval) -> list[Busy]:
    remaining: list[Busy] = []
    for interval in intervals:
        if isinstance(interval, BookedTime) or interval.end <= hole.start or interval.start >= hole.end:
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
    ) -> list[Busy]:
        intervals = self.source.busy_intervals(session, agent=agent, start=start, end=end, fresh=fresh)
        return _subtract(intervals, self.own_time)

"""Availability for an agent, read from the database: the I/O edge around the pure engine."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from shared.agents.bookable import is_bookable
from shared.agents.errors import MeetingTypeNotFound
from shared.availability.busy import (
    BusyTimeSource,
    LocalBookingsSource,
    agents_bookings_query,
    local_booked_times,
    of_agent,
)
from shared.availability.cache import DriverReads
from shared.availability.engine import BusyTimeline, days_with_free_slots, free_slots
from shared.availability.rules import WEEKDAYS, AvailabilityRules, Busy, MeetingTypeRules, Slot, parse_hhmm
from shared.models import STATUS_CONFIRMED, Agent, Availability, Booking, MeetingType
from shared.models.calendar import CalendarConnection


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def meeting_type_rules(meeting_type: MeetingType) -> MeetingTypeRules:
    """The type's own rules as stored (None where it uses the agent's)."""
    return MeetingTypeRules(
        min_notice=_minutes(meeting_type.min_notice_minutes),
        buffer_before=_minutes(meeting_type.buffer_before_minutes),
        buffer_after=_minutes(meeting_type.buffer_after_minutes),
        max_per_day=meeting_type.max_per_day,
    )


def rules_from_model(availability: Availability, *, meeting_type: MeetingType | None = None) -> AvailabilityRules:
    """The agent's rules; with `meeting_type`, the rules its slots are offered under."""
    rules = _agent_rules(availability)
    return rules if meeting_type is None else rules.for_meeting_type(meeting_type_rules(meeting_type))


def _agent_rules(availability: Availability) -> AvailabilityRules:
    return _rules_of(
        timezone=availability.timezone,
        weekly=availability.weekly,
        overrides=availability.overrides or [],
        min_notice_minutes=availability.min_notice_minutes,
        horizon_days=availability.horizon_days,
        buffer_before_minutes=availability.buffer_before_minutes,
        buffer_after_minutes=availability.buffer_after_minutes,
        slot_interval_minutes=availability.slot_interval_minutes,
        max_per_day=availability.max_per_day,
    )


def _rules_of(
    *,
    timezone: str,
    weekly: Mapping[str, Any],
    overrides: Iterable[Mapping[str, Any]],
    min_notice_minutes: int,
    horizon_days: int,
    buffer_before_minutes: int,
    buffer_after_minutes: int,
    slot_interval_minutes: int,
    max_per_day: int | None,
) -> AvailabilityRules:
    """The agent's rules from the stored availability's values (weekly and overrides as JSON reads them)."""
    return AvailabilityRules(
        timezone=timezone,
        weekly={
            index: [(parse_hhmm(a), parse_hhmm(b)) for a, b in weekly.get(name, [])]
            for index, name in enumerate(WEEKDAYS)
        },
        overrides={
            date.fromisoformat(item["date"]): [(parse_hhmm(a), parse_hhmm(b)) for a, b in item.get("windows", [])]
            for item in overrides
        },
        min_notice=timedelta(minutes=min_notice_minutes),
        horizon=timedelta(days=horizon_days),
        buffer_before=timedelta(minutes=buffer_before_minutes),
        buffer_after=timedelta(minutes=buffer_after_minutes),
        slot_interval=timedelta(minutes=slot_interval_minutes),
        max_per_day=max_per_day,
    )


# The confirmed bookings starting in a range that take the agent's day (the daily maxima), built
# once with bound parameters, as shared.availability.busy's _LOCAL_BUSY.
_BOOKED_STARTS = agents_bookings_query(
    bindparam("agent_id"),
    (Booking.start_at, Booking.meeting_type_id),
    (
        Booking.status == STATUS_CONFIRMED,
        Booking.start_at >= bindparam("start"),
        Booking.start_at < bindparam("end"),
        Booking.id != bindparam("excluded_id"),
    ),
)
_NO_BOOKING = 0  # no booking has id 0: "excluding none"


def _per_local_day(
    rows: Iterable[Any], *, zone: ZoneInfo, meeting_type_id: int | None
) -> tuple[dict[date, int], dict[date, int]]:
    counts: dict[date, int] = {}
    of_type: dict[date, int] = {}
    for start_at, type_id in rows:
        day = start_at.astimezone(zone).date()
        counts[day] = counts.get(day, 0) + 1
        if type_id == meeting_type_id:
            of_type[day] = of_type.get(day, 0) + 1
    return counts, of_type


def _booked_starts_params(
    *, agent_id: int, start: datetime, end: datetime, exclude_booking_id: int | None
) -> dict[str, Any]:
    excluded = exclude_booking_id if exclude_booking_id is not None else _NO_BOOKING
    return {"agent_id": agent_id, "start": start, "end": end, "excluded_id": excluded}


def booked_per_local_day(
    session: Session,
    *,
    agent: Agent,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    exclude_booking_id: int | None = None,
    meeting_type_id: int | None = None,
) -> tuple[dict[date, int], dict[date, int]]:
    """Confirmed bookings starting in [start, end) per agent-local day: of every type (the agent's
    daily maximum), and of `meeting_type_id` only (that type's daily maximum). With the collective
    team bookings the agent hosts (they take the agent's day too)."""
    params = _booked_starts_params(agent_id=agent.id, start=start, end=end, exclude_booking_id=exclude_booking_id)
    return _per_local_day(session.execute(_BOOKED_STARTS, params), zone=zone, meeting_type_id=meeting_type_id)


_MARGIN = timedelta(days=1)  # a day either side of the slot starts covers any meeting and buffer


def _padded(rules: AvailabilityRules, duration: timedelta, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The span a slot starting in [start, end) occupies, with its buffers: where local bookings matter."""
    return start - rules.buffer_before, end + duration + rules.buffer_after


class AgentAvailability:
    """Everything the engine needs for one agent over one UTC range, gathered in a few queries."""

    def __init__(
        self,
        session: Session,
        *,
        agent: Agent,
        sources: Sequence[BusyTimeSource],
        start: datetime,
        end: datetime,
        fresh: bool,
        meeting_type: MeetingType,
        excluding: Booking | None = None,
        exact: bool = True,
    ) -> None:
        """The rules of `meeting_type`'s slots and what they are checked against. `excluding`: a
        booking read as if it did not exist (the one a reschedule moves), in every source and in the
        per-day counts. `exact=False` reads local bookings over the wide range too."""
        if excluding is not None:
            sources = [source.excluding(excluding) for source in sources]
        self.rules = rules_from_model(agent.availability, meeting_type=meeting_type)
        duration = timedelta(minutes=meeting_type.duration_minutes)
        intervals: list[Busy] = []
        # Slot starts lie in [start, end). A day either side covers any meeting and buffer. The local
        # bookings that can touch a slot are exactly those whose occupied time (with their own
        # buffers) overlaps the slots' own padded span [start - buffer before, end + duration +
        # buffer after): reading only those rows is most of the saving on a slots request. Remote
        # sources keep the wider range, which their per-range cache reuses for neighbouring dates.
        wide = (start - _MARGIN, end + _MARGIN)
        padded = _padded(self.rules, duration, start, end) if exact else wide
        for source in sources:
            busy_start, busy_end = padded if source.local else wide
            intervals.extend(source.busy_intervals(session, agent=agent, start=busy_start, end=busy_end, fresh=fresh))
        self.busy = BusyTimeline(intervals)
        self.booked_per_day: dict[date, int] = {}
        self.type_booked_per_day: dict[date, int] = {}
        if self.rules.max_per_day is not None or self.rules.meeting_type_max_per_day is not None:
            self.booked_per_day, self.type_booked_per_day = booked_per_local_day(
                session,
                agent=agent,
                zone=self.rules.zone,
                start=start - _MARGIN,
                end=end + _MARGIN,
                exclude_booking_id=excluding.id if excluding is not None else None,
                meeting_type_id=meeting_type.id,
            )


def default_sources() -> list[BusyTimeSource]:
    """The sources every deployment has: the agent's bookings (shared.calendars.sources adds Google)."""
    return [LocalBookingsSource()]


def month_range(month: str) -> tuple[date, date]:
    year, _, mon = month.partition("-")
    first = date(int(year), int(mon), 1)
    next_first = date(first.year + (first.month // 12), first.month % 12 + 1, 1)
    return first, next_first - timedelta(days=1)


def _month_span(
    month: str, *, display_zone: ZoneInfo, now: datetime, horizon: timedelta
) -> tuple[date, date, datetime, datetime] | None:
    """The month's first and last day and the UTC range its slots may start in; None when no slot can."""
    first, last = month_range(month)
    start = datetime.combine(first, time(0), tzinfo=display_zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=display_zone).astimezone(UTC)
    horizon_end = now + horizon
    if end <= now or start > horizon_end:
        return None
    return first, last, max(start, now), min(end, horizon_end + timedelta(days=1))


def _day_span(
    day: date, *, display_zone: ZoneInfo, now: datetime, horizon: timedelta
) -> tuple[datetime, datetime] | None:
    """The UTC range the day's slots start in; None when no slot can."""
    start = datetime.combine(day, time(0), tzinfo=display_zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=display_zone).astimezone(UTC)
    if end <= now or start > now + horizon:
        return None
    return start, end


def available_days(
    session: Session,
    *,
    agent: Agent,
    meeting_type: MeetingType,
    month: str,
    display_zone: ZoneInfo,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> list[date]:
    span = _month_span(
        month, display_zone=display_zone, now=now, horizon=timedelta(days=agent.availability.horizon_days)
    )
    if span is None:
        return []
    first, last, start, end = span
    data = AgentAvailability(
        session, agent=agent, sources=sources, start=start, end=end, fresh=False, meeting_type=meeting_type
    )
    return days_with_free_slots(
        data.rules,
        duration=timedelta(minutes=meeting_type.duration_minutes),
        busy=data.busy,
        now=now,
        first_day=first,
        last_day=last,
        display_zone=display_zone,
        booked_starts=data.booked_per_day,
        type_booked_starts=data.type_booked_per_day,
    )


def available_slots(
    session: Session,
    *,
    agent: Agent,
    meeting_type: MeetingType,
    day: date,
    display_zone: ZoneInfo,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> list[Slot]:
    span = _day_span(day, display_zone=display_zone, now=now, horizon=timedelta(days=agent.availability.horizon_days))
    if span is None:
        return []
    start, end = span
    data = AgentAvailability(
        session, agent=agent, sources=sources, start=start, end=end, fresh=False, meeting_type=meeting_type
    )
    return free_slots(
        data.rules,
        duration=timedelta(minutes=meeting_type.duration_minutes),
        busy=data.busy,
        now=now,
        range_start=start,
        range_end=end,
        booked_starts=data.booked_per_day,
        type_booked_starts=data.type_booked_per_day,
    )


def count_confirmed(session: Session, *, agent_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Booking).where(of_agent(agent_id), Booking.status == STATUS_CONFIRMED)
        )
        or 0
    )


# Availability of an agent's link without ORM entities (the public slots/days answers computed on a
# cache miss): the agent's rules columns, the meeting type asked for and whether a calendar is
# connected, in one statement built once with bound parameters; weekly and overrides as their stored
# JSON text, which keys the parsed rules (`_cached_rules`) by exactly what they are made of.
_AGENT_READ = (
    select(
        Agent.id,
        Availability.timezone,
        cast(Availability.weekly, Text).label("weekly"),
        cast(Availability.overrides, Text).label("overrides"),
        Availability.min_notice_minutes,
        Availability.horizon_days,
        Availability.buffer_before_minutes,
        Availability.buffer_after_minutes,
        Availability.slot_interval_minutes,
        Availability.max_per_day,
        MeetingType.id.label("meeting_type_id"),
        # Named as on MeetingType, so the row is what shared.agents.bookable's rule reads.
        MeetingType.agent_id.label("agent_id"),
        MeetingType.active,
        MeetingType.deleted_at,
        MeetingType.duration_minutes,
        MeetingType.min_notice_minutes.label("type_min_notice_minutes"),
        MeetingType.buffer_before_minutes.label("type_buffer_before_minutes"),
        MeetingType.buffer_after_minutes.label("type_buffer_after_minutes"),
        MeetingType.max_per_day.label("type_max_per_day"),
        CalendarConnection.id.label("calendar_connection_id"),
    )
    .select_from(Agent)
    .join(Availability, Availability.agent_id == Agent.id)
    .outerjoin(MeetingType, MeetingType.id == bindparam("meeting_type_id", type_=BigInteger))
    .outerjoin(CalendarConnection, CalendarConnection.agent_id == Agent.id)
    .where(Agent.link == bindparam("link"), Agent.active.is_(True))
)


@lru_cache(maxsize=1024)
def _cached_rules(
    timezone: str,
    weekly: str,
    overrides: str | None,
    agent_minutes: tuple[int, int, int, int, int, int | None],
    type_rules: MeetingTypeRules,
) -> AvailabilityRules:
    """The rules of a meeting type's slots, parsed once per (stored availability, type's own rules):
    the key is everything they are made of, so an edit of either is a new key, never a stale hit."""
    notice, horizon, before, after, interval, max_per_day = agent_minutes
    rules = _rules_of(
        timezone=timezone,
        weekly=json.loads(weekly),
        overrides=json.loads(overrides) if overrides is not None else [],
        min_notice_minutes=notice,
        horizon_days=horizon,
        buffer_before_minutes=before,
        buffer_after_minutes=after,
        slot_interval_minutes=interval,
        max_per_day=max_per_day,
    )
    return rules.for_meeting_type(type_rules)


@dataclass(frozen=True, slots=True)
class AgentRead:
    """An agent's link and bookable meeting type as availability needs them, as plain values."""

    agent_id: int
    meeting_type_id: int
    duration: timedelta
    rules: AvailabilityRules  # those the meeting type's slots are offered under
    buffer_before_minutes: int  # the agent's own: what a booking of a type without its own is padded with
    buffer_after_minutes: int
    has_calendar_connection: bool


@dataclass(frozen=True, slots=True)
class _TypeRead:
    """The meeting type columns of `_AGENT_READ`, as shared.agents.bookable's rule reads them."""

    agent_id: int | None
    active: bool
    deleted_at: datetime | None


def read_agent(reads: DriverReads, *, link: str, meeting_type_id: int) -> AgentRead | None:
    """The active agent behind `link` with its bookable meeting type `meeting_type_id` (a positive
    id within 32 bits: the answer cache's range) in one statement; MeetingTypeNotFound as
    get_bookable_meeting_type raises it. None when no active agent (with availability) holds the
    link: a team's link, or none at all, which the ORM path answers as before."""
    if "\x00" in link:
        return None  # the ORM path refuses it (LinkNotFound)
    rows = reads.rows(_AGENT_READ, {"link": link, "meeting_type_id": meeting_type_id})
    if not rows:
        return None
    (
        agent_id,
        timezone,
        weekly,
        overrides,
        notice,
        horizon,
        before,
        after,
        interval,
        max_per_day,
        type_id,
        type_agent_id,
        type_active,
        type_deleted_at,
        duration,
        type_notice,
        type_before,
        type_after,
        type_max_per_day,
        calendar_connection_id,
    ) = rows[0]
    if type_id is None or not is_bookable(
        _TypeRead(type_agent_id, bool(type_active), type_deleted_at), agent_id=agent_id
    ):
        raise MeetingTypeNotFound()
    type_rules = MeetingTypeRules(
        min_notice=_minutes(type_notice),
        buffer_before=_minutes(type_before),
        buffer_after=_minutes(type_after),
        max_per_day=type_max_per_day,
    )
    minutes = (notice, horizon, before, after, interval, max_per_day)
    return AgentRead(
        agent_id=agent_id,
        meeting_type_id=type_id,
        duration=timedelta(minutes=duration),
        rules=_cached_rules(timezone, weekly, overrides, minutes, type_rules),
        buffer_before_minutes=before,
        buffer_after_minutes=after,
        has_calendar_connection=calendar_connection_id is not None,
    )


@dataclass(frozen=True, slots=True)
class _LocalData:
    busy: BusyTimeline
    booked_per_day: dict[date, int]
    type_booked_per_day: dict[date, int]


def _local_data(reads: DriverReads, agent: AgentRead, start: datetime, end: datetime) -> _LocalData:
    """What AgentAvailability gathers for local bookings only (exact range, nothing excluded)."""
    rules = agent.rules
    busy_start, busy_end = _padded(rules, agent.duration, start, end)
    booked = local_booked_times(
        reads,
        agent_id=agent.agent_id,
        buffer_before=agent.buffer_before_minutes,
        buffer_after=agent.buffer_after_minutes,
        start=busy_start,
        end=busy_end,
    )
    counts: tuple[dict[date, int], dict[date, int]] = ({}, {})
    if rules.max_per_day is not None or rules.meeting_type_max_per_day is not None:
        params = _booked_starts_params(
            agent_id=agent.agent_id, start=start - _MARGIN, end=end + _MARGIN, exclude_booking_id=None
        )
        counts = _per_local_day(
            reads.rows(_BOOKED_STARTS, params), zone=rules.zone, meeting_type_id=agent.meeting_type_id
        )
    return _LocalData(BusyTimeline(booked), *counts)


def read_slots(reads: DriverReads, *, agent: AgentRead, day: date, display_zone: ZoneInfo, now: datetime) -> list[Slot]:
    """available_slots for an agent read by `read_agent`, local bookings its only busy source."""
    span = _day_span(day, display_zone=display_zone, now=now, horizon=agent.rules.horizon)
    if span is None:
        return []
    start, end = span
    data = _local_data(reads, agent, start, end)
    return free_slots(
        agent.rules,
        duration=agent.duration,
        busy=data.busy,
        now=now,
        range_start=start,
        range_end=end,
        booked_starts=data.booked_per_day,
        type_booked_starts=data.type_booked_per_day,
    )


def read_days(reads: DriverReads, *, agent: AgentRead, month: str, display_zone: ZoneInfo, now: datetime) -> list[date]:
    """available_days for an agent read by `read_agent`, local bookings its only busy source."""
    span = _month_span(month, display_zone=display_zone, now=now, horizon=agent.rules.horizon)
    if span is None:
        return []
    first, last, start, end = span
    data = _local_data(reads, agent, start, end)
    return days_with_free_slots(
        agent.rules,
        duration=agent.duration,
        busy=data.busy,
        now=now,
        first_day=first,
        last_day=last,
        display_zone=display_zone,
        booked_starts=data.booked_per_day,
        type_booked_starts=data.type_booked_per_day,
    )

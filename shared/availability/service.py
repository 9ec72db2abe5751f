"""Availability for an agent, read from the database: the I/O edge around the pure engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.availability.busy import BusyTimeSource, LocalBookingsSource, agents_bookings_query, of_agent
from shared.availability.engine import BusyTimeline, days_with_free_slots, free_slots
from shared.availability.rules import WEEKDAYS, AvailabilityRules, Busy, MeetingTypeRules, Slot, Window, parse_hhmm
from shared.models import STATUS_CONFIRMED, Agent, Availability, Booking, MeetingType


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
    weekly: dict[int, list[Window]] = {}
    for index, name in enumerate(WEEKDAYS):
        weekly[index] = [(parse_hhmm(a), parse_hhmm(b)) for a, b in availability.weekly.get(name, [])]
    overrides = {
        date.fromisoformat(item["date"]): [(parse_hhmm(a), parse_hhmm(b)) for a, b in item.get("windows", [])]
        for item in availability.overrides or []
    }
    return AvailabilityRules(
        timezone=availability.timezone,
        weekly=weekly,
        overrides=overrides,
        min_notice=timedelta(minutes=availability.min_notice_minutes),
        horizon=timedelta(days=availability.horizon_days),
        buffer_before=timedelta(minutes=availability.buffer_before_minutes),
        buffer_after=timedelta(minutes=availability.buffer_after_minutes),
        slot_interval=timedelta(minutes=availability.slot_interval_minutes),
        max_per_day=availability.max_per_day,
    )


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
    daily maximum), and of `meeting_type_id` only (that type's daily maximum)."""
    conditions = [Booking.status == STATUS_CONFIRMED, Booking.start_at >= start, Booking.start_at < end]
    if exclude_booking_id is not None:
        conditions.append(Booking.id != exclude_booking_id)
    # With the collective team bookings the agent hosts (they take the agent's day too).
    query = agents_bookings_query(agent.id, (Booking.start_at, Booking.meeting_type_id), conditions)
    counts: dict[date, int] = {}
    of_type: dict[date, int] = {}
    for start_at, type_id in session.execute(query):
        day = start_at.astimezone(zone).date()
        counts[day] = counts.get(day, 0) + 1
        if type_id == meeting_type_id:
            of_type[day] = of_type.get(day, 0) + 1
    return counts, of_type


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
        margin = timedelta(days=1)
        wide = (start - margin, end + margin)
        padded = (start - self.rules.buffer_before, end + duration + self.rules.buffer_after) if exact else wide
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
                start=start - margin,
                end=end + margin,
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
    first, last = month_range(month)
    start = datetime.combine(first, time(0), tzinfo=display_zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=display_zone).astimezone(UTC)
    horizon_end = now + timedelta(days=agent.availability.horizon_days)
    if end <= now or start > horizon_end:
        return []
    data = AgentAvailability(
        session,
        agent=agent,
        sources=sources,
        start=max(start, now),
        end=min(end, horizon_end + timedelta(days=1)),
        fresh=False,
        meeting_type=meeting_type,
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
    start = datetime.combine(day, time(0), tzinfo=display_zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=display_zone).astimezone(UTC)
    if end <= now or start > now + timedelta(days=agent.availability.horizon_days):
        return []
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

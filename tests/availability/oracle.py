"""A brute-force statement of SPEC §5, independent of the engine's code paths.

It walks every whole UTC minute, looks at the agent's wall clock for it through `astimezone`, and
keeps the minutes that the rules allow as a slot start. Slow (minutes × windows) but obviously right,
so it is only used on ranges of a few days.

Busy time is a set of occupied minutes, built without the engine's types or functions: each calendar
block marks every minute it touches (no buffer), each booking every minute from its start minus its
own type's buffer before to its end plus its own type's buffer after. A slot is free when none of the
minutes of its own padded span is in the set. The rules of the offered meeting type are resolved
here too (its own value where it has one, the agent's otherwise), from plain numbers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.availability.rules import AvailabilityRules, Interval

MINUTE = timedelta(minutes=1)
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OracleBooking:
    """A confirmed booking as the oracle reads it: plain times, its type, and that type's own buffer
    minutes (None = the agent's)."""

    start: datetime
    end: datetime
    meeting_type: int
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None


def _minute_index(moment: datetime, *, up: bool) -> int:
    seconds = (moment - EPOCH).total_seconds() / 60
    return math.ceil(seconds) if up else math.floor(seconds)


def occupied_minutes(
    *, calendar: Sequence[Interval], bookings: Sequence[OracleBooking], agent_before: int, agent_after: int
) -> set[int]:
    """Every whole minute (counted from EPOCH) that some busy thing shares an instant with."""
    taken: set[int] = set()
    for block in calendar:
        if block.end > block.start:
            taken.update(range(_minute_index(block.start, up=False), _minute_index(block.end, up=True)))
    for booking in bookings:
        before = agent_before if booking.buffer_before_minutes is None else booking.buffer_before_minutes
        after = agent_after if booking.buffer_after_minutes is None else booking.buffer_after_minutes
        first = _minute_index(booking.start, up=False) - before
        last = _minute_index(booking.end, up=True) + after
        taken.update(range(first, last))
    return taken


def first_instant_at_or_after(wall: datetime, zone: ZoneInfo) -> datetime:
    """The earliest UTC instant whose wall clock reads `wall` or later: the first occurrence of an
    ambiguous time, the end of the gap for a time that does not exist."""
    candidate = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) == wall:
        return candidate
    # Inside a gap: fold=1 reads the wall with the offset from after the change, an instant before
    # the change; walk forward a minute at a time until the clock has jumped past `wall`.
    instant = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while instant.astimezone(zone).replace(tzinfo=None) < wall:
        instant += MINUTE
    return instant


def offered_starts(
    rules: AvailabilityRules,
    *,
    duration: timedelta,
    busy: Sequence[Interval],
    now: datetime,
    range_start: datetime,
    range_end: datetime,
    booked_starts: Sequence[datetime] = (),
    bookings: Sequence[OracleBooking] = (),
    offered_type: int = 0,
    own_rules: Mapping[str, int | None] | None = None,
) -> list[datetime]:
    """`rules` are the agent's; `own_rules` the offered type's own minutes / maximum (None = the
    agent's, for `max_per_day`: no maximum of its own). `booked_starts` are counted against the
    agent's daily maximum beside `bookings`, which count there too and, of `offered_type`, against
    the type's."""
    own = dict(own_rules or {})
    agent_before = int(rules.buffer_before / MINUTE)
    agent_after = int(rules.buffer_after / MINUTE)
    notice_minutes = own.get("min_notice_minutes")
    min_notice = rules.min_notice if notice_minutes is None else notice_minutes * MINUTE
    own_before = own.get("buffer_before_minutes")
    own_after = own.get("buffer_after_minutes")
    slot_before = agent_before if own_before is None else own_before
    slot_after = agent_after if own_after is None else own_after
    type_max = own.get("max_per_day")
    taken = occupied_minutes(calendar=busy, bookings=bookings, agent_before=agent_before, agent_after=agent_after)

    zone = rules.zone
    interval_minutes = int(rules.slot_interval / MINUTE)
    origin = range_start.replace(second=0, microsecond=0) - timedelta(days=3)
    count = int((range_end - origin) / MINUTE) + 3 * 24 * 60
    instants = [origin + i * MINUTE for i in range(count)]
    local = [instant.astimezone(zone) for instant in instants]
    walls = [moment.replace(tzinfo=None, fold=0) for moment in local]
    booked_per_day = Counter(start.astimezone(zone).date() for start in [*booked_starts, *(b.start for b in bookings)])
    type_per_day = Counter(b.start.astimezone(zone).date() for b in bookings if b.meeting_type == offered_type)

    def first_index_at_or_after(wall: datetime) -> int:
        # No zone is ahead of UTC by 15 hours, so the clock reads less than `wall` there.
        index = max(0, int((wall.replace(tzinfo=UTC) - timedelta(hours=15) - origin) / MINUTE))
        while walls[index] < wall:
            index += 1
        return index

    offered: set[datetime] = set()
    first_day = range_start.astimezone(zone).date() - timedelta(days=1)
    last_day = range_end.astimezone(zone).date()
    day = first_day
    while day <= last_day:
        for window_start, window_end in rules.windows_on(day):
            wall_start = datetime.combine(day, window_start)
            wall_end = datetime.combine(day + timedelta(days=1) if window_end <= window_start else day, window_end)
            start_index = first_index_at_or_after(wall_start)
            end_index = first_index_at_or_after(wall_end)
            for index in range(start_index, end_index):
                if local[index].fold == 1:  # the second reading of a repeated hour is never a start
                    continue
                wall = walls[index]
                if not wall_start <= wall < wall_end:
                    continue
                if int((wall - wall_start) / MINUTE) % interval_minutes:
                    continue
                start = instants[index]
                end = start + duration
                if end > instants[end_index]:
                    continue
                if not (range_start <= start < range_end and now + min_notice <= start <= now + rules.horizon):
                    continue
                if rules.max_per_day is not None and booked_per_day[wall.date()] >= rules.max_per_day:
                    continue
                if type_max is not None and type_per_day[wall.date()] >= type_max:
                    continue
                first = _minute_index(start, up=False) - slot_before
                last = _minute_index(end, up=True) + slot_after
                if any(minute in taken for minute in range(first, last)):
                    continue
                offered.add(start)
        day += timedelta(days=1)
    return sorted(offered)

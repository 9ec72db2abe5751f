"""A brute-force statement of SPEC §5, independent of the engine's code paths.

It walks every whole UTC minute, looks at the agent's wall clock for it through `astimezone`, and
keeps the minutes that the rules allow as a slot start. Slow (minutes × windows) but obviously right,
so it is only used on ranges of a few days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.availability.rules import AvailabilityRules, Interval

MINUTE = timedelta(minutes=1)


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
) -> list[datetime]:
    zone = rules.zone
    interval_minutes = int(rules.slot_interval / MINUTE)
    origin = range_start.replace(second=0, microsecond=0) - timedelta(days=3)
    count = int((range_end - origin) / MINUTE) + 3 * 24 * 60
    instants = [origin + i * MINUTE for i in range(count)]
    local = [instant.astimezone(zone) for instant in instants]
    walls = [moment.replace(tzinfo=None, fold=0) for moment in local]
    booked_per_day = Counter(start.astimezone(zone).date() for start in booked_starts)

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
                if not (range_start <= start < range_end and now + rules.min_notice <= start <= now + rules.horizon):
                    continue
                if rules.max_per_day is not None and booked_per_day[wall.date()] >= rules.max_per_day:
                    continue
                padded_start, padded_end = start - rules.buffer_before, end + rules.buffer_after
                if any(b.start < padded_end and b.end > padded_start and b.end > b.start for b in busy):
                    continue
                offered.add(start)
        day += timedelta(days=1)
    return sorted(offered)

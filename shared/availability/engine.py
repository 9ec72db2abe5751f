"""The availability engine: rules + busy intervals + now in, free slots out.

Pure functions only: no clock, database or network, so it can be tested exhaustively and
benchmarked in-process. Rules of SPEC §5 live here and nowhere else:

- windows are wall-clock times in the agent's zone, so 09:00 stays 09:00 across DST;
- the slot grid starts at each window's start and steps by the slot interval in wall-clock time;
- a wall-clock time that does not exist (spring forward) is skipped as a slot start; a window
  bound that does not exist moves to the first instant that does;
- an ambiguous wall-clock time (fall back) always resolves to its first occurrence (fold=0);
- a slot [start, start+duration) must lie inside its window, start no earlier than now + notice and
  no later than now + horizon, and with its buffers overlap no occupied time;
- buffers belong to every meeting: a confirmed booking occupies [start − its buffer before,
  end + its buffer after] (its own meeting type's buffers, `occupied_time`), a calendar busy block
  exactly [start, end); so two meetings are at least the first one's buffer after plus the second
  one's buffer before apart, and a slot's own buffers are those of the type being offered;
- the rules of the meeting type being offered (its notice, buffers and daily maximum) come from
  `AvailabilityRules.for_meeting_type`; the caller hands in the rules already resolved;
- a day that already holds `max_per_day` bookings (of any type) offers nothing, and a day that holds
  `meeting_type_max_per_day` bookings of the offered type offers nothing of that type.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from shared.availability.rules import AvailabilityRules, BookedTime, Busy, Interval, Slot

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)

DayCounts = Sequence[datetime] | Mapping[date, int]
"""Bookings counted against a daily maximum: their starts, or their count per agent-local day."""


def occupied_time(busy: Busy) -> Interval:
    """The agent's time a busy thing takes: a booking with its own buffers, a calendar block as it is."""
    if isinstance(busy, BookedTime):
        return Interval(busy.start - busy.buffer_before, busy.end + busy.buffer_after)
    return busy


def _seconds_floor(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _seconds_ceil(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


class BusyTimeline:
    """Occupied time sorted and merged once, then queried by bisection in O(log n).

    Built from calendar busy blocks and bookings alike: each counts as its `occupied_time`. The
    merged intervals are kept as whole UTC seconds too (start rounded down, end rounded up), which
    the engine compares much faster than aware datetimes. For bounds on whole seconds, as every slot
    start and buffer is, the rounded test answers exactly as the exact one: [s, e) overlaps a busy
    [b, c) iff c > s and b < e, and for whole s and e that holds iff ceil(c) > s and floor(b) < e.
    """

    __slots__ = ("_end_seconds", "_ends", "_start_seconds", "_starts")

    def __init__(self, intervals: Iterable[Busy]) -> None:
        merged: list[list[datetime]] = []
        for interval in sorted(map(occupied_time, intervals), key=lambda i: i.start):
            if interval.end <= interval.start:
                continue
            if merged and interval.start <= merged[-1][1]:
                if interval.end > merged[-1][1]:
                    merged[-1][1] = interval.end
            else:
                merged.append([interval.start, interval.end])
        self._starts = [m[0] for m in merged]
        self._ends = [m[1] for m in merged]
        self._start_seconds = [_seconds_floor(m[0]) for m in merged]
        self._end_seconds = [_seconds_ceil(m[1]) for m in merged]

    def __len__(self) -> int:
        return len(self._starts)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) shares any instant with a busy interval."""
        # The last merged interval starting before `end` is the only candidate: merged intervals
        # are disjoint and sorted, so ends grow with starts.
        index = bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start

    def intervals(self) -> list[Interval]:
        return [Interval(s, e) for s, e in zip(self._starts, self._ends, strict=True)]


def resolve_wall_time(day: date, wall: time, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The UTC instant of a wall-clock time, and whether that wall-clock time exists.

    Ambiguous times take their first occurrence (fold=0). For a time inside a spring-forward gap the
    instant returned is the transition itself (the first instant after the gap).
    """
    local = datetime.combine(day, wall, tzinfo=zone)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return as_utc, True
    # In a gap: fold=1 maps with the offset after the transition (the earlier instant), fold=0 with
    # the offset before it (the later one). The transition lies between; find it to the minute.
    low = local.replace(fold=1).astimezone(UTC)
    high = as_utc
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
            low = middle
        else:
            high = middle
    return high, False


def _window_end(day: date, window_start: time, window_end: time, zone: ZoneInfo) -> datetime:
    """The instant a window of `day` ends (on the next day when it runs past midnight)."""
    end_day = day + timedelta(days=1) if window_end <= window_start else day
    end_utc, _ = resolve_wall_time(end_day, window_end, zone)
    return end_utc


def _grid_starts(
    day: date, window_start: time, window_end: time, step: timedelta, zone: ZoneInfo
) -> Iterator[tuple[date, datetime]]:
    """Wall-clock grid from the window start as (agent-local date, instant); non-existent wall times
    are skipped. The date is the wall-clock one, which differs from `day` past midnight."""
    first = datetime.combine(day, window_start)
    last = datetime.combine(day + timedelta(days=1) if window_end <= window_start else day, window_end)
    wall = first
    while wall < last:
        local_day = wall.date()
        instant, exists = resolve_wall_time(local_day, wall.time(), zone)
        if exists:
            yield local_day, instant
        wall += step


@dataclass(frozen=True, slots=True)
class WindowGrid:
    """One window of one day resolved to UTC for one meeting length: its end, its grid of starts (in
    start order, as whole UTC seconds for the engine's fast comparisons) with the agent-local date
    each falls on, and the slot each start would offer."""

    bound_end_seconds: int
    start_seconds: tuple[int, ...]
    local_days: tuple[date, ...]
    # Slot(start, start + duration) for every start: immutable, so every call shares them.
    slots: tuple[Slot, ...]
    # The agent-local date of every start when they all fall on one (None when the window runs past
    # midnight), so a daily maximum is looked up once per window instead of once per start.
    only_local_day: date | None


@lru_cache(maxsize=8192)
def window_grid(
    day: date, window_start: time, window_end: time, step: timedelta, zone: ZoneInfo, duration: timedelta
) -> WindowGrid:
    """The window's bounds, grid and slots, resolved once per (day, window, step, zone, duration) and
    then reused.

    Resolving two dozen wall-clock times to UTC and making a slot per start is most of what a day
    with little busy time costs, and every call for that day (every member of a team, every month
    view, every re-validation) resolves the same ones: a pure function of its arguments, so its
    answers are kept (bounded LRU; about a year of days for a few dozen distinct hour sets and
    meeting lengths).
    """
    bound_end = _window_end(day, window_start, window_end, zone)
    grid = list(_grid_starts(day, window_start, window_end, step, zone))
    local_days = tuple(local_day for local_day, _ in grid)
    return WindowGrid(
        bound_end_seconds=_seconds_floor(bound_end),
        start_seconds=tuple(_seconds_floor(instant) for _, instant in grid),
        local_days=local_days,
        slots=tuple(Slot(instant, instant + duration) for _, instant in grid),
        only_local_day=local_days[0] if local_days and len(set(local_days)) == 1 else None,
    )


def _free_start_runs(
    start_seconds: Sequence[int],
    first: int,
    stop: int,
    *,
    busy_starts: Sequence[int],
    busy_ends: Sequence[int],
    reach_before: int,
    reach_after: int,
) -> Iterator[tuple[int, int]]:
    """The runs [i, j) of grid indices in [first, stop) whose slot, widened by `reach_before` before
    its start and `reach_after` after it, overlaps no busy block (merged, sorted, in whole seconds).

    A start s is blocked by a block [b, c) iff b < s + reach_after and c > s − reach_before, i.e. for
    b − reach_after < s < c + reach_before: each block near the window blocks one run of the sorted
    grid, found by bisection, so the cost grows with the blocks the window touches, not its starts.
    """
    low_start = start_seconds[first]
    # The first block that ends late enough to reach the first start; blocks are disjoint and
    # sorted, so their ends grow with their starts.
    block = bisect_right(busy_ends, low_start - reach_before)
    high_start = start_seconds[stop - 1]
    position = first
    while block < len(busy_starts) and busy_starts[block] < high_start + reach_after:
        blocked_from = bisect_right(start_seconds, busy_starts[block] - reach_after, position, stop)
        blocked_to = bisect_left(start_seconds, busy_ends[block] + reach_before, position, stop)
        if blocked_from > position:
            yield position, blocked_from
        position = max(position, blocked_to)
        if position >= stop:
            return
        block += 1
    if position < stop:
        yield position, stop


def _count_per_local_day(starts: Iterable[datetime], zone: ZoneInfo) -> dict[date, int]:
    counts: dict[date, int] = {}
    for start in starts:
        local_day = start.astimezone(zone).date()
        counts[local_day] = counts.get(local_day, 0) + 1
    return counts


def _per_day(booked: DayCounts, zone: ZoneInfo) -> Mapping[date, int]:
    return booked if isinstance(booked, Mapping) else _count_per_local_day(booked, zone)


def free_slots(
    rules: AvailabilityRules,
    *,
    duration: timedelta,
    busy: BusyTimeline | Sequence[Busy],
    now: datetime,
    range_start: datetime,
    range_end: datetime,
    booked_starts: DayCounts = (),
    type_booked_starts: DayCounts = (),
) -> list[Slot]:
    """Slots whose start lies in [range_start, range_end), in start order.

    `rules` are those of the meeting type offered (`AvailabilityRules.for_meeting_type`). `busy`
    holds everything the agent is busy with: confirmed bookings of any meeting type as `BookedTime`
    (with their own type's buffers) and connected-calendar busy times as `Interval`. `booked_starts`
    are the starts of the agent's confirmed bookings (or their count per agent-local day), for the
    agent's daily maximum; `type_booked_starts` the same of the offered type's bookings only.
    """
    if now.tzinfo is None or range_start.tzinfo is None or range_end.tzinfo is None:
        raise ValueError("now and the range must be timezone-aware")
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    timeline = busy if isinstance(busy, BusyTimeline) else BusyTimeline(busy)
    zone = rules.zone
    earliest = max(range_start, now + rules.min_notice)
    latest_start = now + rules.horizon
    if earliest >= range_end or earliest > latest_start:
        return []
    per_day = _per_day(booked_starts, zone) if rules.max_per_day is not None else {}
    type_per_day = _per_day(type_booked_starts, zone) if rules.meeting_type_max_per_day is not None else {}

    max_per_day = rules.max_per_day
    type_max_per_day = rules.meeting_type_max_per_day
    # Whole UTC seconds throughout (grid starts, bounds and buffers are whole minutes; the timeline
    # rounds busy time outwards, see BusyTimeline): the same answers as datetimes, faster.
    reach_before = int(rules.buffer_before.total_seconds())
    length = duration.total_seconds()
    # A slot with its own buffers occupies [start − before, start + length + after); on whole-second
    # starts, ceil(start + length) = start + ceil(length).
    reach_after = math.ceil(length) + int(rules.buffer_after.total_seconds())
    earliest_seconds = math.ceil(earliest.timestamp())
    range_end_seconds = math.ceil(range_end.timestamp())
    latest_seconds = math.floor(latest_start.timestamp())
    busy_starts, busy_ends = timeline._start_seconds, timeline._end_seconds
    chosen: list[Slot] = []
    in_order = True
    # A start lies on its window's agent-local day, or on the next one for a window running past
    # midnight: so the days from that of `earliest` (one earlier when such windows exist) to that of
    # the last instant a start may take.
    day = earliest.astimezone(zone).date()
    if rules.has_overnight_windows:
        day -= _ONE_DAY
    last_day = min(range_end - _ONE_MICROSECOND, latest_start).astimezone(zone).date()
    step = rules.slot_interval
    while day <= last_day:
        for window_start, window_end in rules.windows_on(day):
            grid = window_grid(day, window_start, window_end, step, zone, duration)
            start_seconds = grid.start_seconds
            # The offered starts of the grid are one run of it: at or after `earliest`, before the
            # range's end, within the horizon, and with the whole slot inside the window.
            first = bisect_left(start_seconds, earliest_seconds)
            stop = min(
                bisect_left(start_seconds, range_end_seconds),
                bisect_right(start_seconds, latest_seconds),
                bisect_right(start_seconds, grid.bound_end_seconds - length),
            )
            if first >= stop:
                continue
            # The daily maximum counts the day the slot starts on, which for a window running past
            # midnight is not the window's day: once per window when all its starts share a day.
            local_day = grid.only_local_day
            if local_day is not None and (
                (max_per_day is not None and per_day.get(local_day, 0) >= max_per_day)
                or (type_max_per_day is not None and type_per_day.get(local_day, 0) >= type_max_per_day)
            ):
                continue
            per_start_limits = local_day is None and (max_per_day is not None or type_max_per_day is not None)
            for run_start, run_stop in _free_start_runs(
                start_seconds,
                first,
                stop,
                busy_starts=busy_starts,
                busy_ends=busy_ends,
                reach_before=reach_before,
                reach_after=reach_after,
            ):
                if chosen and grid.slots[run_start].start <= chosen[-1].start:
                    in_order = False  # overlapping windows: sorted and de-duplicated below
                if not per_start_limits:
                    chosen.extend(grid.slots[run_start:run_stop])
                    continue
                for index in range(run_start, run_stop):
                    start_day = grid.local_days[index]
                    if max_per_day is not None and per_day.get(start_day, 0) >= max_per_day:
                        continue
                    if type_max_per_day is not None and type_per_day.get(start_day, 0) >= type_max_per_day:
                        continue
                    chosen.append(grid.slots[index])
        day += _ONE_DAY
    if in_order:
        return chosen
    # Windows that overlap (or one running past midnight into the next day's) offer each start once.
    return sorted({slot.start: slot for slot in chosen}.values())


def days_with_free_slots(
    rules: AvailabilityRules,
    *,
    duration: timedelta,
    busy: BusyTimeline | Sequence[Busy],
    now: datetime,
    first_day: date,
    last_day: date,
    display_zone: ZoneInfo,
    booked_starts: DayCounts = (),
    type_booked_starts: DayCounts = (),
) -> list[date]:
    """Dates (in `display_zone`, the invitee's) between first_day and last_day that have a free slot."""
    range_start = datetime.combine(first_day, time(0), tzinfo=display_zone).astimezone(UTC)
    range_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=display_zone).astimezone(UTC)
    slots = free_slots(
        rules,
        duration=duration,
        busy=busy,
        now=now,
        range_start=range_start,
        range_end=range_end,
        booked_starts=booked_starts,
        type_booked_starts=type_booked_starts,
    )
    seen: dict[date, None] = {}
    for slot in slots:
        seen.setdefault(slot.start.astimezone(display_zone).date(), None)
    return sorted(seen)


def slot_is_free(
    rules: AvailabilityRules,
    *,
    start: datetime,
    duration: timedelta,
    busy: BusyTimeline | Sequence[Busy],
    now: datetime,
    booked_starts: DayCounts = (),
    type_booked_starts: DayCounts = (),
) -> bool:
    """Whether `start` is one of the offered slots right now (the booking-time re-validation)."""
    slots = free_slots(
        rules,
        duration=duration,
        busy=busy,
        now=now,
        range_start=start,
        range_end=start + timedelta(microseconds=1),
        booked_starts=booked_starts,
        type_booked_starts=type_booked_starts,
    )
    return any(slot.start == start for slot in slots)


def unavailability_reason(
    rules: AvailabilityRules,
    *,
    start: datetime,
    duration: timedelta,
    busy: BusyTimeline | Sequence[Busy],
    now: datetime,
    booked_starts: DayCounts = (),
    type_booked_starts: DayCounts = (),
) -> tuple[str, str] | None:
    """Why `start` cannot be booked now, as (kind, reason), or None when it can.

    kind is "not_offered" for a start that was never a slot under the rules (past, inside minimum
    notice, beyond the horizon, outside the hours or off the grid) and "taken" for one that is a slot
    of the rules but is busy or on a full day.
    """
    if start < now:
        return "not_offered", "that time is in the past"
    if start < now + rules.min_notice:
        hours = rules.min_notice.total_seconds() / 3600
        return "not_offered", f"bookings need at least {hours:g} hours' notice"
    if start > now + rules.horizon:
        return "not_offered", f"that time is beyond the booking horizon of {rules.horizon.days} days"
    if not free_slots(
        rules, duration=duration, busy=(), now=now, range_start=start, range_end=start + timedelta(microseconds=1)
    ):
        minutes = int(rules.slot_interval.total_seconds() // 60)
        return (
            "not_offered",
            f"that start is not an offered slot: outside the agent's hours or off the {minutes}-minute grid",
        )
    local_day = start.astimezone(rules.zone).date()
    if rules.max_per_day is not None and _per_day(booked_starts, rules.zone).get(local_day, 0) >= rules.max_per_day:
        return "taken", "the agent is fully booked on that day"
    type_max = rules.meeting_type_max_per_day
    if type_max is not None and _per_day(type_booked_starts, rules.zone).get(local_day, 0) >= type_max:
        return "taken", "this meeting type is fully booked on that day"
    # The same test as free_slots: the slot with its own buffers against the occupied time.
    timeline = busy if isinstance(busy, BusyTimeline) else BusyTimeline(busy)
    if timeline.overlaps(start - rules.buffer_before, start + duration + rules.buffer_after):
        return "taken", "slot no longer available"
    return None

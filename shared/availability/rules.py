"""The inputs of the availability engine, as plain immutable values (no ORM objects, no clock).

The defaults and the weekday names are those of the stored availability (shared.models.agent).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import NamedTuple
from zoneinfo import ZoneInfo

from shared.models.agent import AVAILABILITY_DEFAULTS as _DEFAULTS
from shared.models.agent import WEEKDAYS as WEEKDAYS  # the engine's callers name the days by it

Window = tuple[time, time]
"""A wall-clock window [start, end) in the agent's zone. end == 00:00 means midnight (end of day)."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class BookedTime:
    """A confirmed booking of the agent: [start, end) and the buffers of its own meeting type.

    It occupies more of the agent's time than [start, end): see shared.availability.engine
    `occupied_time`. A calendar busy block is an `Interval` and occupies exactly itself.
    """

    start: datetime
    end: datetime
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)


Busy = Interval | BookedTime
"""What the engine is told the agent is busy with: calendar busy blocks and the agent's bookings."""


class Slot(NamedTuple):
    """An offered slot [start, end) in UTC. A named tuple rather than a frozen dataclass: the engine
    makes one per free start, and a tuple is several times cheaper to make."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class MeetingTypeRules:
    """A meeting type's own rules (SPEC §5, rules per meeting type); None = the agent's."""

    min_notice: timedelta | None = None
    buffer_before: timedelta | None = None
    buffer_after: timedelta | None = None
    max_per_day: int | None = None


@dataclass(frozen=True)
class AvailabilityRules:
    timezone: str
    weekly: Mapping[int, Sequence[Window]]  # 0 = Monday … 6 = Sunday
    overrides: Mapping[date, Sequence[Window]] = field(default_factory=dict)  # () = day off
    min_notice: timedelta = timedelta(minutes=_DEFAULTS.min_notice_minutes)
    horizon: timedelta = timedelta(days=_DEFAULTS.horizon_days)
    buffer_before: timedelta = timedelta(minutes=_DEFAULTS.buffer_before_minutes)
    buffer_after: timedelta = timedelta(minutes=_DEFAULTS.buffer_after_minutes)
    slot_interval: timedelta = timedelta(minutes=_DEFAULTS.slot_interval_minutes)
    max_per_day: int | None = _DEFAULTS.max_per_day
    # The daily maximum of the meeting type being offered, counted over that type's bookings only
    # (`max_per_day` counts all of the agent's); both apply.
    meeting_type_max_per_day: int | None = None

    def for_meeting_type(self, own: MeetingTypeRules) -> AvailabilityRules:
        """The rules a slot of a meeting type is offered under: its own notice and buffers where it
        sets them, the agent's elsewhere, and its own daily maximum beside the agent's."""
        return replace(
            self,
            min_notice=self.min_notice if own.min_notice is None else own.min_notice,
            buffer_before=self.buffer_before if own.buffer_before is None else own.buffer_before,
            buffer_after=self.buffer_after if own.buffer_after is None else own.buffer_after,
            meeting_type_max_per_day=own.max_per_day,
        )

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def has_overnight_windows(self) -> bool:
        """Whether any window runs past midnight (ends at or before its start, and later than 00:00,
        which is the end of its own day), so that a day's slots may come from the previous day's hours."""
        days = (*self.weekly.values(), *self.overrides.values())
        return any(end <= start and end != time(0) for windows in days for start, end in windows)

    def windows_on(self, local_day: date) -> Sequence[Window]:
        if local_day in self.overrides:
            return self.overrides[local_day]
        return self.weekly.get(local_day.weekday(), ())


def parse_hhmm(value: str) -> time:
    """'09:30' -> time(9, 30); '24:00' is accepted as the end of the day (stored as 00:00)."""
    if value in ("24:00", "24:00:00"):
        return time(0, 0)
    hours, _, minutes = value.partition(":")
    if not (hours.isdigit() and minutes[:2].isdigit() and len(minutes) >= 2):
        raise ValueError(f"time must be HH:MM, got {value!r}")
    return time(int(hours), int(minutes[:2]))

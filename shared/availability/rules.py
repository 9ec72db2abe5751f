"""The inputs of the availability engine, as plain immutable values (no ORM, no clock)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Window = tuple[time, time]
"""A wall-clock window [start, end) in the agent's zone. end == 00:00 means midnight (end of day)."""


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class AvailabilityRules:
    timezone: str
    weekly: Mapping[int, Sequence[Window]]  # 0 = Monday … 6 = Sunday
    overrides: Mapping[date, Sequence[Window]] = field(default_factory=dict)  # () = day off
    min_notice: timedelta = timedelta(hours=4)
    horizon: timedelta = timedelta(days=60)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    slot_interval: timedelta = timedelta(minutes=30)
    max_per_day: int | None = None

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

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

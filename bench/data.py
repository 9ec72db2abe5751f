"""The benchmark agent: Mon–Fri 09:00–12:00 and 13:00–17:00 in Warsaw, 30-minute grid, and 1,000
busy meetings of 30–60 minutes in working hours over the 60-day horizon.

1,000 meetings in 60 days is about 23 per working day, more than the working hours hold, so they
overlap (as events from several calendars do) and the timeline merges them into fewer blocks.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.availability.rules import AvailabilityRules, Interval, Window

ZONE_NAME = "Europe/Warsaw"
ZONE = ZoneInfo(ZONE_NAME)
WINDOWS: list[Window] = [(time(9, 0), time(12, 0)), (time(13, 0), time(17, 0))]
WEEKLY_JSON = {day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
HORIZON_DAYS = 60
BUSY_COUNT = 1000
SEED = 20260601
# A Monday morning, as in the test suite.
FIXED_NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def bench_rules() -> AvailabilityRules:
    return AvailabilityRules(timezone=ZONE_NAME, weekly={weekday: WINDOWS for weekday in range(5)})


def working_days(first_day: date, days: int = HORIZON_DAYS) -> list[date]:
    return [d for d in (first_day + timedelta(days=i) for i in range(days)) if d.weekday() < 5]


def busy_meetings(
    first_day: date, *, count: int = BUSY_COUNT, seed: int = SEED, days: int = HORIZON_DAYS
) -> list[tuple[datetime, int]]:
    """`count` (UTC start, minutes) pairs with distinct starts on a 5-minute grid between 08:00 and
    17:55 local on the working days of `days` from `first_day`, each 30, 45 or 60 minutes long."""
    rng = random.Random(seed)
    positions = [
        datetime.combine(day, time(8, 0), tzinfo=ZONE) + timedelta(minutes=5 * step)
        for day in working_days(first_day, days)
        for step in range(120)
    ]
    return [(start.astimezone(UTC), rng.choice((30, 45, 60))) for start in sorted(rng.sample(positions, count))]


def busy_intervals(first_day: date) -> list[Interval]:
    return [Interval(start, start + timedelta(minutes=minutes)) for start, minutes in busy_meetings(first_day)]


# The 10,000-interval agent (SPEC §13): the same density as the 1,000 (about 24 a working day), so a
# history of about twenty months, most of it before now and the horizon at its end. What a date holds
# is what it held before; only the history grew.
LARGE_BUSY_COUNT = 10_000
LARGE_HISTORY_DAYS = 600


def large_busy_meetings() -> list[tuple[datetime, int]]:
    first_day = FIXED_NOW.date() + timedelta(days=HORIZON_DAYS - LARGE_HISTORY_DAYS)
    return busy_meetings(first_day, count=LARGE_BUSY_COUNT, days=LARGE_HISTORY_DAYS)

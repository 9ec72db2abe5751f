"""Clock changes, case by case, with the UTC instants written out by hand.

Warsaw: 2026-03-29 02:00 CET → 03:00 CEST (at 01:00Z); 2026-10-25 03:00 CEST → 02:00 CET (at 01:00Z).
New York: 2026-03-08 02:00 EST → 03:00 EDT (at 07:00Z); 2026-11-01 02:00 EDT → 01:00 EST (at 06:00Z).
Lord Howe (30-minute shift): 2026-10-04 02:00 → 02:30 (at 15:30Z the day before);
2026-04-05 02:00 → 01:30 (at 15:00Z the day before).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.availability.engine import free_slots, resolve_wall_time, slot_is_free, unavailability_reason
from shared.availability.rules import AvailabilityRules, BookedTime, Busy, Interval, Window

SMALL_HOURS: Window = (time(0, 0), time(5, 0))
OFFICE_HOURS: Window = (time(9, 0), time(17, 0))
HALF_HOUR = timedelta(minutes=30)


def utc(text: str) -> datetime:
    """'2026-03-29 01:00' read as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def agent(
    zone: str, *, windows: dict[date, Sequence[Window]], buffer_after: timedelta = timedelta(0)
) -> AvailabilityRules:
    """An agent with only these dated windows, no notice, and a 30-day horizon."""
    return AvailabilityRules(
        timezone=zone,
        weekly={},
        overrides=windows,
        min_notice=timedelta(0),
        horizon=timedelta(days=30),
        buffer_after=buffer_after,
    )


def starts(
    rules: AvailabilityRules,
    change_day: date,
    *,
    duration: timedelta = HALF_HOUR,
    busy: Sequence[Busy] = (),
    now: datetime | None = None,
) -> list[str]:
    """Offered starts from three days before to three days after `change_day`, as 'MM-DD HH:MMZ'."""
    slots = free_slots(
        rules,
        duration=duration,
        busy=busy,
        now=now or datetime.combine(change_day - timedelta(days=5), time(0), tzinfo=UTC),
        range_start=datetime.combine(change_day - timedelta(days=3), time(0), tzinfo=UTC),
        range_end=datetime.combine(change_day + timedelta(days=3), time(0), tzinfo=UTC),
    )
    return [slot.start.strftime("%m-%d %H:%MZ") for slot in slots]


def office_hours(offered: list[str], day: str, *, after: str = "06:00Z") -> tuple[str, str, int]:
    """First and last start, and how many, among the starts from `after` on one UTC day."""
    those = [s for s in offered if s.startswith(day) and s[6:] >= after]
    return those[0], those[-1], len(those)


WARSAW_SPRING = date(2026, 3, 29)
WARSAW_AUTUMN = date(2026, 10, 25)
NEW_YORK_SPRING = date(2026, 3, 8)
NEW_YORK_AUTUMN = date(2026, 11, 1)


def test_warsaw_spring_forward_skips_the_missing_hour_and_keeps_nine_at_nine() -> None:
    rules = agent(
        "Europe/Warsaw",
        windows={
            date(2026, 3, 27): [OFFICE_HOURS],  # Friday, still CET (+01:00)
            WARSAW_SPRING: [SMALL_HOURS, OFFICE_HOURS],
            date(2026, 3, 30): [OFFICE_HOURS],  # Monday, CEST (+02:00)
        },
    )
    offered = starts(rules, WARSAW_SPRING)
    # 00:00–01:30 CET, then 02:00 and 02:30 do not exist, then 03:00–04:30 CEST.
    assert [s for s in offered if "03-28" < s < "03-29 06"] == [
        "03-28 23:00Z", "03-28 23:30Z", "03-29 00:00Z", "03-29 00:30Z",
        "03-29 01:00Z", "03-29 01:30Z", "03-29 02:00Z", "03-29 02:30Z",
    ]  # fmt: skip
    # 09:00 local is 08:00Z before the change and 07:00Z from the change on; 16 half hours each day.
    assert office_hours(offered, "03-27") == ("03-27 08:00Z", "03-27 15:30Z", 16)
    assert office_hours(offered, "03-29") == ("03-29 07:00Z", "03-29 14:30Z", 16)
    assert office_hours(offered, "03-30") == ("03-30 07:00Z", "03-30 14:30Z", 16)


def test_warsaw_fall_back_offers_the_repeated_hour_once_on_its_first_occurrence() -> None:
    rules = agent(
        "Europe/Warsaw",
        windows={date(2026, 10, 23): [OFFICE_HOURS], WARSAW_AUTUMN: [SMALL_HOURS, OFFICE_HOURS]},
    )
    offered = starts(rules, WARSAW_AUTUMN)
    assert [s for s in offered if "10-24 20" < s < "10-25 06"] == [
        "10-24 22:00Z", "10-24 22:30Z", "10-24 23:00Z", "10-24 23:30Z",  # 00:00–01:30 CEST
        "10-25 00:00Z", "10-25 00:30Z",  # 02:00 and 02:30 CEST, the first time round
        "10-25 02:00Z", "10-25 02:30Z", "10-25 03:00Z", "10-25 03:30Z",  # 03:00–04:30 CET
    ]  # fmt: skip
    assert office_hours(offered, "10-23") == ("10-23 07:00Z", "10-23 14:30Z", 16)  # Friday, CEST
    assert office_hours(offered, "10-25") == ("10-25 08:00Z", "10-25 15:30Z", 16)  # Sunday, CET
    assert starts(rules, WARSAW_AUTUMN) == offered  # deterministic

    # Once the first 02:30 has passed, the second 02:00 and 02:30 (01:00Z, 01:30Z) are still not starts.
    later = starts(rules, WARSAW_AUTUMN, now=utc("2026-10-25 00:45"))
    assert later[:2] == ["10-25 02:00Z", "10-25 02:30Z"]
    second_two = utc("2026-10-25 01:00")
    earlier = utc("2026-10-20 00:00")
    assert not slot_is_free(rules, start=second_two, duration=HALF_HOUR, busy=(), now=earlier)
    verdict = unavailability_reason(rules, start=second_two, duration=HALF_HOUR, busy=(), now=earlier)
    assert verdict is not None
    assert verdict[0] == "not_offered"


def test_new_york_spring_forward() -> None:
    rules = agent(
        "America/New_York",
        windows={date(2026, 3, 6): [OFFICE_HOURS], NEW_YORK_SPRING: [SMALL_HOURS, OFFICE_HOURS]},
    )
    offered = starts(rules, NEW_YORK_SPRING)
    assert [s for s in offered if s.startswith("03-08") and s < "03-08 12"] == [
        "03-08 05:00Z", "03-08 05:30Z", "03-08 06:00Z", "03-08 06:30Z",  # 00:00–01:30 EST
        "03-08 07:00Z", "03-08 07:30Z", "03-08 08:00Z", "03-08 08:30Z",  # 03:00–04:30 EDT
    ]  # fmt: skip
    assert office_hours(offered, "03-06") == ("03-06 14:00Z", "03-06 21:30Z", 16)  # 09:00 EST
    assert office_hours(offered, "03-08", after="12:00Z") == ("03-08 13:00Z", "03-08 20:30Z", 16)  # 09:00 EDT


def test_new_york_fall_back() -> None:
    rules = agent("America/New_York", windows={NEW_YORK_AUTUMN: [SMALL_HOURS, OFFICE_HOURS]})
    offered = starts(rules, NEW_YORK_AUTUMN)
    assert [s for s in offered if s < "11-01 12"] == [
        "11-01 04:00Z", "11-01 04:30Z",  # 00:00, 00:30 EDT
        "11-01 05:00Z", "11-01 05:30Z",  # 01:00, 01:30 EDT, the first time round (not 06:00Z, 06:30Z)
        "11-01 07:00Z", "11-01 07:30Z", "11-01 08:00Z", "11-01 08:30Z", "11-01 09:00Z", "11-01 09:30Z",
    ]  # fmt: skip
    assert office_hours(offered, "11-01", after="12:00Z") == ("11-01 14:00Z", "11-01 21:30Z", 16)  # 09:00 EST


def test_lord_howe_half_hour_shifts() -> None:
    spring, autumn = date(2026, 10, 4), date(2026, 4, 5)
    rules = agent("Australia/Lord_Howe", windows={spring: [SMALL_HOURS], autumn: [SMALL_HOURS]})
    assert starts(rules, spring) == [
        "10-03 13:30Z", "10-03 14:00Z", "10-03 14:30Z", "10-03 15:00Z",  # 00:00–01:30 +10:30
        "10-03 15:30Z", "10-03 16:00Z", "10-03 16:30Z", "10-03 17:00Z", "10-03 17:30Z",  # 02:30–04:30 +11
    ]  # fmt: skip
    assert starts(rules, autumn) == [
        "04-04 13:00Z", "04-04 13:30Z", "04-04 14:00Z", "04-04 14:30Z",  # 00:00–01:30 +11 (01:30 once)
        "04-04 15:30Z", "04-04 16:00Z", "04-04 16:30Z", "04-04 17:00Z", "04-04 17:30Z", "04-04 18:00Z",
    ]  # fmt: skip


def test_meetings_that_span_the_change_last_their_real_length_and_stay_inside_the_window() -> None:
    # 00:00–03:30 on the spring-forward night: 01:00 CET + 2 h ends 04:00 CEST, past 03:30, refused;
    # 01:30 CET + 1 h ends 03:30 CEST exactly, offered.
    rules = agent("Europe/Warsaw", windows={WARSAW_SPRING: [(time(0, 0), time(3, 30))]})
    assert starts(rules, WARSAW_SPRING, duration=timedelta(hours=2)) == ["03-28 23:00Z", "03-28 23:30Z"]
    assert starts(rules, WARSAW_SPRING, duration=timedelta(hours=1))[-1] == "03-29 00:30Z"
    # A window that ends inside the gap (02:30) ends when the gap does: the last half hour is 01:30 CET.
    rules = agent("Europe/Warsaw", windows={WARSAW_SPRING: [(time(0, 0), time(2, 30))]})
    assert starts(rules, WARSAW_SPRING) == ["03-28 23:00Z", "03-28 23:30Z", "03-29 00:00Z", "03-29 00:30Z"]
    # A window that starts inside the gap starts on its grid at the first wall time that exists.
    rules = agent("Europe/Warsaw", windows={WARSAW_SPRING: [(time(2, 0), time(4, 0))]})
    assert starts(rules, WARSAW_SPRING) == ["03-29 01:00Z", "03-29 01:30Z"]
    # On the fall-back night a 00:00–05:00 window lasts six real hours: a 5.5-hour meeting fits.
    rules = agent("Europe/Warsaw", windows={WARSAW_AUTUMN: [SMALL_HOURS]})
    assert starts(rules, WARSAW_AUTUMN, duration=timedelta(hours=5, minutes=30)) == ["10-24 22:00Z", "10-24 22:30Z"]


def test_busy_times_that_cross_the_change_block_exactly_the_slots_they_touch() -> None:
    rules = agent("Europe/Warsaw", windows={WARSAW_SPRING: [SMALL_HOURS]})
    # 00:45Z–01:15Z reads 01:45 CET – 03:15 CEST.
    busy = [Interval(utc("2026-03-29 00:45"), utc("2026-03-29 01:15"))]
    assert starts(rules, WARSAW_SPRING, busy=busy) == [
        "03-28 23:00Z", "03-28 23:30Z", "03-29 00:00Z",  # up to 01:00 CET
        "03-29 01:30Z", "03-29 02:00Z", "03-29 02:30Z",  # from 03:30 CEST
    ]  # fmt: skip

    rules = agent("Europe/Warsaw", windows={WARSAW_AUTUMN: [SMALL_HOURS]}, buffer_after=timedelta(minutes=15))
    # 00:15Z–01:45Z reads 02:15 CEST – 02:45 CET; with 15 minutes after each slot, 01:30 CEST (ends 00:00Z,
    # buffer to 00:15Z) still fits, 02:00 and 02:30 CEST do not, 03:00 CET (02:00Z) does.
    busy = [Interval(utc("2026-10-25 00:15"), utc("2026-10-25 01:45"))]
    assert starts(rules, WARSAW_AUTUMN, busy=busy) == [
        "10-24 22:00Z", "10-24 22:30Z", "10-24 23:00Z", "10-24 23:30Z",
        "10-25 02:00Z", "10-25 02:30Z", "10-25 03:00Z", "10-25 03:30Z",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "day", "wall", "instant", "exists"),
    [
        ("Europe/Warsaw", WARSAW_SPRING, time(2, 0), "2026-03-29 01:00", False),
        ("Europe/Warsaw", WARSAW_SPRING, time(2, 30), "2026-03-29 01:00", False),
        ("Europe/Warsaw", WARSAW_SPRING, time(3, 0), "2026-03-29 01:00", True),
        ("Europe/Warsaw", WARSAW_AUTUMN, time(2, 0), "2026-10-25 00:00", True),
        ("Europe/Warsaw", WARSAW_AUTUMN, time(2, 30), "2026-10-25 00:30", True),
        ("America/New_York", NEW_YORK_SPRING, time(2, 30), "2026-03-08 07:00", False),
        ("America/New_York", NEW_YORK_AUTUMN, time(1, 30), "2026-11-01 05:30", True),
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), "2026-10-03 15:30", False),
        ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), "2026-04-04 14:45", True),
        ("Asia/Kolkata", WARSAW_SPRING, time(2, 30), "2026-03-28 21:00", True),
    ],
)
def test_resolve_wall_time(zone: str, day: date, wall: time, instant: str, exists: bool) -> None:
    assert resolve_wall_time(day, wall, ZoneInfo(zone)) == (utc(instant), exists)


# --- A booking's own buffers across a clock change: real minutes, not wall-clock ones ------------------

HOUR = timedelta(hours=1)


def test_warsaw_spring_a_bookings_buffer_after_runs_through_the_missing_hour() -> None:
    rules = agent("Europe/Warsaw", windows={WARSAW_SPRING: [SMALL_HOURS]})
    # 00:30–01:00 CET (23:30–00:00Z) with 60 minutes after: occupied to 01:00Z, which reads 03:00 CEST.
    booking = BookedTime(utc("2026-03-28 23:30"), utc("2026-03-29 00:00"), buffer_after=HOUR)
    assert starts(rules, WARSAW_SPRING, busy=[booking]) == [
        "03-28 23:00Z",  # 00:00 CET
        "03-29 01:00Z",  # 03:00 CEST: an hour of real time after the booking, two on the wall
        "03-29 01:30Z",
        "03-29 02:00Z",
        "03-29 02:30Z",
    ]
    assert not slot_is_free(
        rules, start=utc("2026-03-29 00:30"), duration=HALF_HOUR, busy=[booking], now=utc("2026-03-20 00:00")
    )


def test_warsaw_spring_a_bookings_buffer_before_reaches_back_over_the_missing_hour() -> None:
    rules = agent("Europe/Warsaw", windows={WARSAW_SPRING: [SMALL_HOURS]})
    # 03:30–04:00 CEST (01:30–02:00Z) with 60 minutes before: occupied from 00:30Z (01:30 CET).
    booking = BookedTime(utc("2026-03-29 01:30"), utc("2026-03-29 02:00"), buffer_before=HOUR)
    assert starts(rules, WARSAW_SPRING, busy=[booking]) == [
        "03-28 23:00Z",
        "03-28 23:30Z",
        "03-29 00:00Z",  # 01:00–01:30 CET ends where the buffer begins
        "03-29 02:00Z",  # 04:00 CEST, when the booking ends
        "03-29 02:30Z",
    ]


def test_warsaw_autumn_a_bookings_buffer_after_ends_in_the_repeated_hour() -> None:
    rules = agent("Europe/Warsaw", windows={WARSAW_AUTUMN: [SMALL_HOURS]})
    # 02:00–02:30 CEST (00:00–00:30Z), 60 minutes after: occupied to 01:30Z, the second 02:30 (CET).
    # Read on the wall it would reach 03:30; in real time 03:00 CET (02:00Z) is free.
    booking = BookedTime(utc("2026-10-25 00:00"), utc("2026-10-25 00:30"), buffer_after=HOUR)
    assert starts(rules, WARSAW_AUTUMN, busy=[booking]) == [
        "10-24 22:00Z",
        "10-24 22:30Z",
        "10-24 23:00Z",
        "10-24 23:30Z",
        "10-25 02:00Z",
        "10-25 02:30Z",
        "10-25 03:00Z",
        "10-25 03:30Z",
    ]


def test_new_york_spring_buffers_of_a_booking_and_of_the_slot_add_up_across_the_gap() -> None:
    # 00:00–05:00 local; New York jumps 02:00 EST → 03:00 EDT at 07:00Z. The slot wants 30 minutes
    # after, the booking at 03:00 EDT (07:00Z) 30 before: a 30-minute slot must end by 06:00Z
    # (01:00 EST), so the last start before the booking is 00:30 EST (05:30Z).
    rules = AvailabilityRules(
        timezone="America/New_York",
        weekly={},
        overrides={NEW_YORK_SPRING: [SMALL_HOURS]},
        min_notice=timedelta(0),
        horizon=timedelta(days=30),
        buffer_after=HALF_HOUR,
    )
    booking = BookedTime(utc("2026-03-08 07:00"), utc("2026-03-08 07:30"), buffer_before=HALF_HOUR)
    offered = starts(rules, NEW_YORK_SPRING, busy=[booking])
    assert [s for s in offered if s < "03-08 07:00Z"] == ["03-08 05:00Z", "03-08 05:30Z"]
    # After it: the booking ends 07:30Z (03:30 EDT); the slot has no buffer before: 03:30 EDT on.
    assert [s for s in offered if s >= "03-08 07:00Z"][0] == "03-08 07:30Z"

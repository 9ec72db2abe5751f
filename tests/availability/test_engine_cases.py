"""Hand-picked engine cases that random search reaches only rarely."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from shared.availability.engine import free_slots, slot_is_free, unavailability_reason
from shared.availability.rules import AvailabilityRules, Interval

NOW = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
HALF_HOUR = timedelta(minutes=30)


def _starts(
    rules: AvailabilityRules,
    *,
    busy: Sequence[Interval] = (),
    booked_starts: Sequence[datetime] = (),
) -> list[str]:
    """Offered starts over the three days from NOW, as 'Mon 09:00' (all these agents are in UTC)."""
    slots = free_slots(
        rules,
        duration=HALF_HOUR,
        busy=busy,
        now=NOW,
        range_start=NOW,
        range_end=NOW + timedelta(days=3),
        booked_starts=booked_starts,
    )
    return [slot.start.strftime("%a %H:%M") for slot in slots]


def test_overlapping_windows_offer_each_start_once() -> None:
    rules = AvailabilityRules(
        timezone="UTC", weekly={1: [(time(9, 0), time(11, 0)), (time(10, 0), time(12, 0))]}, min_notice=timedelta(0)
    )
    assert _starts(rules) == ["Tue 09:00", "Tue 09:30", "Tue 10:00", "Tue 10:30", "Tue 11:00", "Tue 11:30"]


def test_a_window_past_midnight_counts_the_daily_maximum_on_the_day_each_slot_starts() -> None:
    # Monday 22:00 – Tuesday 02:00; Tuesday already holds its one allowed booking, Monday none.
    rules = AvailabilityRules(
        timezone="UTC", weekly={0: [(time(22, 0), time(2, 0))]}, min_notice=timedelta(0), max_per_day=1
    )
    tuesday_booking = [datetime(2026, 6, 2, 15, 0, tzinfo=UTC)]
    assert _starts(rules, booked_starts=tuesday_booking) == ["Mon 22:00", "Mon 22:30", "Mon 23:00", "Mon 23:30"]
    after_midnight = datetime(2026, 6, 2, 0, 30, tzinfo=UTC)
    assert not slot_is_free(
        rules, start=after_midnight, duration=HALF_HOUR, busy=(), now=NOW, booked_starts=tuesday_booking
    )
    assert unavailability_reason(
        rules, start=after_midnight, duration=HALF_HOUR, busy=(), now=NOW, booked_starts=tuesday_booking
    ) == ("taken", "the agent is fully booked on that day")
    # And a full Monday closes only Monday's part of the window.
    monday_booking = [datetime(2026, 6, 1, 8, 0, tzinfo=UTC)]
    assert _starts(rules, booked_starts=monday_booking) == ["Tue 00:00", "Tue 00:30", "Tue 01:00", "Tue 01:30"]


def test_buffers_keep_slots_clear_of_busy_time_on_both_sides() -> None:
    rules = AvailabilityRules(
        timezone="UTC",
        weekly={0: [(time(9, 0), time(13, 0))]},
        min_notice=timedelta(0),
        buffer_before=timedelta(minutes=15),
        buffer_after=timedelta(minutes=10),
    )
    busy = [Interval(datetime(2026, 6, 1, 11, 0, tzinfo=UTC), datetime(2026, 6, 1, 11, 30, tzinfo=UTC))]
    # 10:30 would end at 11:00 but needs 10 minutes after; 11:30 starts right after but needs 15 before.
    assert _starts(rules, busy=busy) == ["Mon 09:00", "Mon 09:30", "Mon 10:00", "Mon 12:00", "Mon 12:30"]


def test_notice_and_horizon_cut_the_range() -> None:
    rules = AvailabilityRules(
        timezone="UTC",
        weekly={d: [(time(0, 0), time(0, 0))] for d in range(7)},
        min_notice=timedelta(hours=4, minutes=10),
        horizon=timedelta(hours=6),
        slot_interval=timedelta(hours=1),
    )
    # 04:10 notice → first whole-hour start 05:00; horizon 06:00 is itself still offered.
    assert _starts(rules) == ["Mon 05:00", "Mon 06:00"]

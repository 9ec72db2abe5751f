"""Hand-picked engine cases that random search reaches only rarely."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from shared.availability.engine import free_slots, slot_is_free, unavailability_reason
from shared.availability.rules import AvailabilityRules, BookedTime, Busy, Interval, MeetingTypeRules

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


# --- Buffers belong to every meeting (SPEC §5) --------------------------------------------------------


def _utc_starts(rules: AvailabilityRules, busy: Sequence[Busy], *, day: datetime, duration: timedelta) -> list[str]:
    slots = free_slots(rules, duration=duration, busy=busy, now=NOW, range_start=day, range_end=day + timedelta(days=1))
    return [slot.start.strftime("%H:%M") for slot in slots]


def test_a_calendar_block_gets_no_buffer_a_booking_gets_its_own() -> None:
    # 09:00–13:00 UTC, hour slots, the slot's own buffers 0. The same 10:00–11:00 time as a calendar
    # block and as a booking with 30 minutes before and after.
    rules = AvailabilityRules(
        timezone="UTC", weekly={1: [(time(9, 0), time(13, 0))]}, min_notice=timedelta(0), slot_interval=HALF_HOUR
    )
    tuesday = datetime(2026, 6, 2, tzinfo=UTC)
    hour = timedelta(hours=1)
    block = Interval(tuesday + 10 * hour, tuesday + 11 * hour)
    booking = BookedTime(block.start, block.end, buffer_before=HALF_HOUR, buffer_after=HALF_HOUR)
    assert _utc_starts(rules, [block], day=tuesday, duration=hour) == ["09:00", "11:00", "11:30", "12:00"]
    assert _utc_starts(rules, [booking], day=tuesday, duration=hour) == ["11:30", "12:00"]
    # The booking-time check reads the same rule.
    assert unavailability_reason(rules, start=tuesday + 11 * hour, duration=hour, busy=[booking], now=NOW) == (
        "taken",
        "slot no longer available",
    )
    assert unavailability_reason(rules, start=tuesday + 11 * hour, duration=hour, busy=[block], now=NOW) is None


def test_between_two_bookings_lie_the_first_ones_after_plus_the_second_ones_before() -> None:
    # A booking 10:00–10:30 wants 20 after; the slot (another type) wants 25 before and 0 after:
    # the slot may start at 10:30 + 20 + 25 = 11:15, not earlier; on a 5-minute grid that is exact.
    rules = AvailabilityRules(
        timezone="UTC",
        weekly={1: [(time(9, 0), time(12, 0))]},
        min_notice=timedelta(0),
        slot_interval=timedelta(minutes=5),
    ).for_meeting_type(MeetingTypeRules(buffer_before=timedelta(minutes=25), buffer_after=timedelta(0)))
    tuesday = datetime(2026, 6, 2, tzinfo=UTC)
    booking = BookedTime(
        tuesday + timedelta(hours=10), tuesday + timedelta(hours=10, minutes=30), buffer_after=timedelta(minutes=20)
    )
    starts = _utc_starts(rules, [booking], day=tuesday, duration=HALF_HOUR)
    after = [s for s in starts if s >= "10:00"]
    assert after[0] == "11:15"
    # And before it: the slot ends, then the booking's own before (0) plus the slot's after (0): 09:30.
    assert [s for s in starts if s < "10:00"][-1] == "09:30"
    assert not slot_is_free(
        rules, start=tuesday + timedelta(hours=11, minutes=10), duration=HALF_HOUR, busy=[booking], now=NOW
    )
    assert slot_is_free(
        rules, start=tuesday + timedelta(hours=11, minutes=15), duration=HALF_HOUR, busy=[booking], now=NOW
    )


def test_a_meeting_types_daily_maximum_counts_its_own_bookings_and_the_agents_counts_all() -> None:
    rules = AvailabilityRules(
        timezone="UTC", weekly={1: [(time(9, 0), time(12, 0))]}, min_notice=timedelta(0), max_per_day=3
    ).for_meeting_type(MeetingTypeRules(max_per_day=1))
    tuesday = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)
    assert _starts(rules, booked_starts=[tuesday, tuesday]) != []  # two of other types: the agent allows 3
    slots = free_slots(
        rules,
        duration=HALF_HOUR,
        busy=(),
        now=NOW,
        range_start=NOW,
        range_end=NOW + timedelta(days=3),
        booked_starts=[tuesday],
        type_booked_starts=[tuesday],
    )
    assert slots == []
    assert unavailability_reason(
        rules,
        start=datetime(2026, 6, 2, 9, 0, tzinfo=UTC),
        duration=HALF_HOUR,
        busy=(),
        now=NOW,
        booked_starts=[tuesday],
        type_booked_starts=[tuesday],
    ) == ("taken", "this meeting type is fully booked on that day")
    assert _starts(rules, booked_starts=[tuesday] * 3) == []


def test_a_meeting_types_own_notice_and_buffers_replace_the_agents_and_none_keeps_them() -> None:
    agent = AvailabilityRules(
        timezone="UTC",
        weekly={},
        min_notice=timedelta(hours=4),
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=20),
    )
    same = agent.for_meeting_type(MeetingTypeRules())
    assert (same.min_notice, same.buffer_before, same.buffer_after, same.meeting_type_max_per_day) == (
        timedelta(hours=4),
        timedelta(minutes=10),
        timedelta(minutes=20),
        None,
    )
    own = agent.for_meeting_type(
        MeetingTypeRules(
            min_notice=timedelta(0), buffer_before=timedelta(0), buffer_after=timedelta(hours=1), max_per_day=2
        )
    )
    assert (own.min_notice, own.buffer_before, own.buffer_after, own.meeting_type_max_per_day) == (
        timedelta(0),
        timedelta(0),
        timedelta(hours=1),
        2,
    )
    assert own.max_per_day == agent.max_per_day

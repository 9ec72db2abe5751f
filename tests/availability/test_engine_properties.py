"""Properties of the availability engine over random rules, busy times and clocks near DST changes.

Every example runs in agent zones with 60- and 30-minute DST shifts and none, with windows in the
small hours where the clocks change, and a 'now' a few days around a change.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.availability.engine import (
    BusyTimeline,
    days_with_free_slots,
    free_slots,
    resolve_wall_time,
    slot_is_free,
    unavailability_reason,
)
from shared.availability.rules import AvailabilityRules, BookedTime, Busy, Interval, MeetingTypeRules, Slot
from tests.availability.oracle import OracleBooking, first_instant_at_or_after, offered_starts
from tests.availability.strategies import (
    AGENT_ZONES,
    DISPLAY_ZONES,
    DURATIONS,
    booked_starts,
    bookings,
    busy_intervals,
    clocks,
    own_rules,
    rules,
    type_buffers,
)

MINUTE = timedelta(minutes=1)
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn, *, max_days: int) -> dict:
    """Rules (the agent's and the offered meeting type's own), calendar busy times, bookings of three
    meeting types with their own buffers, a clock and a range of at most `max_days` days near it."""
    now = draw(clocks())
    range_start = now + timedelta(minutes=draw(st.integers(-24 * 60, 2 * 24 * 60)))
    hours = draw(st.sampled_from([1, 6, 24, 48, 24 * max_days]))
    range_end = range_start + timedelta(hours=min(hours, 24 * max_days), minutes=draw(st.integers(0, 59)))
    buffers = draw(type_buffers())
    return {
        "rules": draw(rules(now=now, max_horizon_days=max_days + 1)),
        "own_rules": draw(own_rules(buffers=buffers[0])),
        "bookings": draw(bookings(now=now, days=max_days + 2, buffers=buffers)),
        "duration": draw(DURATIONS),
        "busy": draw(busy_intervals(now=now, days=max_days + 2)),
        "booked_starts": draw(booked_starts(now=now, days=max_days + 2)),
        "now": now,
        "range_start": range_start,
        "range_end": range_end,
    }


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def engine_rules(scenario: dict) -> AvailabilityRules:
    """The rules the offered type's slots are offered under, resolved by the engine's own code."""
    own = scenario["own_rules"]
    return scenario["rules"].for_meeting_type(
        MeetingTypeRules(
            min_notice=_minutes(own["min_notice_minutes"]),
            buffer_before=_minutes(own["buffer_before_minutes"]),
            buffer_after=_minutes(own["buffer_after_minutes"]),
            max_per_day=own["max_per_day"],
        )
    )


def engine_busy(scenario: dict) -> list[Busy]:
    """Calendar blocks as they are, bookings with their own type's buffers (or the agent's), as the
    database edge (shared.availability.busy) hands them to the engine."""
    agent: AvailabilityRules = scenario["rules"]
    booked: list[Busy] = [
        BookedTime(
            b.start,
            b.end,
            agent.buffer_before if b.buffer_before_minutes is None else timedelta(minutes=b.buffer_before_minutes),
            agent.buffer_after if b.buffer_after_minutes is None else timedelta(minutes=b.buffer_after_minutes),
        )
        for b in scenario["bookings"]
    ]
    return [*scenario["busy"], *booked]


def engine_inputs(scenario: dict) -> dict:
    """Everything but the rules and the range, as the engine takes it."""
    items: list[OracleBooking] = scenario["bookings"]
    return {
        "duration": scenario["duration"],
        "busy": engine_busy(scenario),
        "now": scenario["now"],
        "booked_starts": [*scenario["booked_starts"], *(b.start for b in items)],
        "type_booked_starts": [b.start for b in items if b.meeting_type == 0],
    }


def oracle_starts(scenario: dict, **overrides: datetime) -> list[datetime]:
    arguments = {k: v for k, v in scenario.items() if k != "rules"} | overrides
    return offered_starts(scenario["rules"], **arguments)


def engine_slots(scenario: dict) -> list[Slot]:
    return free_slots(
        engine_rules(scenario),
        range_start=scenario["range_start"],
        range_end=scenario["range_end"],
        **engine_inputs(scenario),
    )


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _inside_a_window(slot: Slot, agent_rules: AvailabilityRules) -> bool:
    """Whether some window of the slot's agent-local day (or the day before, for a window past
    midnight) holds the slot in wall-clock terms, with its start on that window's grid."""
    zone = agent_rules.zone
    start_wall, end_wall = _wall(slot.start, zone), _wall(slot.end, zone)
    interval = int(agent_rules.slot_interval / MINUTE)
    for day in (start_wall.date(), start_wall.date() - timedelta(days=1)):
        for window_start, window_end in agent_rules.windows_on(day):
            wall_start = datetime.combine(day, window_start)
            wall_end = datetime.combine(day + timedelta(days=1) if window_end <= window_start else day, window_end)
            # A window end that does not exist (spring forward) reads as the end of the gap.
            last_instant = first_instant_at_or_after(wall_end, zone)
            if (
                wall_start <= start_wall < wall_end
                and end_wall <= _wall(last_instant, zone)
                and first_instant_at_or_after(wall_start, zone) <= slot.start
                and slot.end <= last_instant
                and int((start_wall - wall_start) / MINUTE) % interval == 0
                and slot.start.astimezone(zone).fold == 0
            ):
                return True
    return False


@PROPERTY_SETTINGS
@given(scenario=scenarios(max_days=3))
def test_free_slots_are_exactly_what_a_minute_by_minute_reading_of_the_rules_offers(scenario: dict) -> None:
    offered = engine_slots(scenario)
    expected = oracle_starts(scenario)
    event("with bookings" if scenario["bookings"] else "no bookings")
    event("no slot" if not expected else "1–9 slots" if len(expected) < 10 else "10+ slots")
    assert [slot.start for slot in offered] == expected
    assert all(slot.end == slot.start + scenario["duration"] for slot in offered)


@PROPERTY_SETTINGS
@given(scenario=scenarios(max_days=9))
def test_every_offered_slot_obeys_every_rule(scenario: dict) -> None:
    agent_rules: AvailabilityRules = scenario["rules"]
    own = scenario["own_rules"]
    now: datetime = scenario["now"]
    offered = engine_slots(scenario)

    def own_or_agent(field: str, agent_value: timedelta) -> timedelta:
        return agent_value if own[field] is None else timedelta(minutes=own[field])

    min_notice = own_or_agent("min_notice_minutes", agent_rules.min_notice)
    before = own_or_agent("buffer_before_minutes", agent_rules.buffer_before)
    after = own_or_agent("buffer_after_minutes", agent_rules.buffer_after)
    starts = [slot.start for slot in offered]
    assert starts == sorted(set(starts)), "slots are sorted and unique"
    items: list[OracleBooking] = scenario["bookings"]
    all_starts = [*scenario["booked_starts"], *(b.start for b in items)]
    booked_per_day = Counter(start.astimezone(agent_rules.zone).date() for start in all_starts)
    type_per_day = Counter(b.start.astimezone(agent_rules.zone).date() for b in items if b.meeting_type == 0)
    for slot in offered:
        assert slot.end - slot.start == scenario["duration"]
        assert scenario["range_start"] <= slot.start < scenario["range_end"]
        assert now + min_notice <= slot.start <= now + agent_rules.horizon
        padded_start, padded_end = slot.start - before, slot.end + after
        for busy in scenario["busy"]:
            assert not (busy.start < padded_end and busy.end > padded_start), (slot, busy)
        for booking in items:
            # The booking's own buffers: its type's, else the agent's (SPEC §5).
            booking_before = booking.buffer_before_minutes
            booking_after = booking.buffer_after_minutes
            occupied_start = booking.start - (
                agent_rules.buffer_before if booking_before is None else timedelta(minutes=booking_before)
            )
            occupied_end = booking.end + (
                agent_rules.buffer_after if booking_after is None else timedelta(minutes=booking_after)
            )
            assert not (occupied_start < padded_end and occupied_end > padded_start), (slot, booking)
        assert _inside_a_window(slot, agent_rules), slot
        day = slot.start.astimezone(agent_rules.zone).date()
        if agent_rules.max_per_day is not None:
            assert booked_per_day[day] < agent_rules.max_per_day
        if own["max_per_day"] is not None:
            assert type_per_day[day] < own["max_per_day"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(max_days=3), extra_probes=st.lists(st.integers(0, 3 * 24 * 60), max_size=10))
def test_booking_time_checks_agree_with_the_offered_slots(scenario: dict, extra_probes: list[int]) -> None:
    agent_rules = engine_rules(scenario)
    offered = engine_slots(scenario)
    offered_set = {slot.start for slot in offered}
    check = engine_inputs(scenario)
    # Offered starts, their neighbours a minute and half a grid step away, busy edges, random minutes.
    probes = {slot.start for slot in offered[:40]}
    for slot in offered[:15]:
        probes |= {slot.start - MINUTE, slot.start + MINUTE, slot.start + agent_rules.slot_interval / 2}
    for busy in [*scenario["busy"], *scenario["bookings"]]:
        probes |= {busy.start.replace(second=0), busy.end.replace(second=0)}
    base = scenario["range_start"].replace(second=0, microsecond=0)
    probes |= {base + minutes * MINUTE for minutes in extra_probes}
    for probe in sorted(probes):
        if not scenario["range_start"] <= probe < scenario["range_end"]:
            continue
        is_offered = probe in offered_set
        assert slot_is_free(agent_rules, start=probe, **check) is is_offered, probe
        reason = unavailability_reason(agent_rules, start=probe, **check)
        assert (reason is None) is is_offered, (probe, reason)
        if reason is not None:
            assert reason[0] in {"not_offered", "taken"}
            assert reason[1]


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(max_days=3),
    display=st.sampled_from(DISPLAY_ZONES),
    first_offset=st.integers(-2, 3),
    span=st.integers(0, 5),
)
def test_days_with_free_slots_are_the_display_dates_of_the_free_slots(
    scenario: dict, display: str, first_offset: int, span: int
) -> None:
    agent_rules = engine_rules(scenario)
    now: datetime = scenario["now"]
    display_zone = ZoneInfo(display)
    first_day = now.astimezone(display_zone).date() + timedelta(days=first_offset)
    last_day = first_day + timedelta(days=span)
    common = engine_inputs(scenario)
    days = days_with_free_slots(
        agent_rules, first_day=first_day, last_day=last_day, display_zone=display_zone, **common
    )
    # Every slot the agent has from well before to well after those days, then read in the display zone.
    everything = free_slots(
        agent_rules,
        range_start=datetime.combine(first_day, time(0), tzinfo=UTC) - timedelta(days=2),
        range_end=datetime.combine(last_day, time(0), tzinfo=UTC) + timedelta(days=3),
        **common,
    )
    expected = sorted(
        {d for slot in everything if first_day <= (d := slot.start.astimezone(display_zone).date()) <= last_day}
    )
    assert days == expected


@settings(max_examples=200, deadline=None)
@given(
    intervals=st.lists(st.tuples(st.integers(0, 600), st.integers(-5, 120)), max_size=25),
    query=st.tuples(st.integers(-30, 700), st.integers(1, 120)),
)
def test_busy_timeline_overlap_matches_a_linear_scan(intervals: list[tuple[int, int]], query: tuple[int, int]) -> None:
    origin = datetime(2026, 6, 1, tzinfo=UTC)
    busy = [Interval(origin + start * MINUTE, origin + (start + length) * MINUTE) for start, length in intervals]
    start, end = origin + query[0] * MINUTE, origin + (query[0] + query[1]) * MINUTE
    expected = any(b.start < end and b.end > start and b.end > b.start for b in busy)
    assert BusyTimeline(busy).overlaps(start, end) is expected


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(AGENT_ZONES + ["Pacific/Auckland", "America/Los_Angeles"]),
    day=st.sampled_from([date(2026, m, d) for m, d in ((3, 8), (3, 29), (4, 5), (6, 1), (10, 4), (10, 25), (11, 1))]),
    minutes=st.integers(0, 24 * 60 - 1),
)
def test_resolve_wall_time_gives_the_first_instant_reading_that_time_or_later(
    zone_name: str, day: date, minutes: int
) -> None:
    zone = ZoneInfo(zone_name)
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    instant, exists = resolve_wall_time(day, wall.time(), zone)
    assert instant == first_instant_at_or_after(wall, zone)
    assert exists is (_wall(instant, zone) == wall)

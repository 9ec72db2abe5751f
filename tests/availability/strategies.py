"""Hypothesis strategies for availability rules, busy times and clocks around DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import strategies as st

from shared.availability.rules import AvailabilityRules, Interval, Window
from tests.availability.oracle import OracleBooking

AGENT_ZONES = ["Europe/Warsaw", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
# The invitee can be anywhere, including a day ahead of or behind the agent.
DISPLAY_ZONES = [*AGENT_ZONES, "Pacific/Auckland", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Los_Angeles"]

# Midnight UTC of days on which some of the zones above change their clocks in 2026 (and one quiet day).
CLOCK_CHANGE_DAYS = [
    datetime(2026, 3, 8, tzinfo=UTC),  # New York springs forward
    datetime(2026, 3, 29, tzinfo=UTC),  # Warsaw springs forward
    datetime(2026, 4, 5, tzinfo=UTC),  # Lord Howe falls back 30 minutes
    datetime(2026, 6, 1, tzinfo=UTC),  # nothing changes
    datetime(2026, 10, 4, tzinfo=UTC),  # Lord Howe springs forward 30 minutes
    datetime(2026, 10, 25, tzinfo=UTC),  # Warsaw falls back
    datetime(2026, 11, 1, tzinfo=UTC),  # New York falls back
]

# Windows that straddle the small hours, where the clocks change, beside ordinary office hours.
DST_WINDOWS: list[Window] = [
    (time(0, 0), time(5, 0)),
    (time(1, 0), time(3, 30)),
    (time(1, 30), time(2, 30)),
    (time(2, 0), time(2, 30)),
    (time(2, 30), time(4, 0)),
    (time(9, 0), time(12, 0)),
    (time(13, 0), time(17, 0)),
    (time(0, 0), time(0, 0)),  # the whole day (00:00–24:00)
]


def _hhmm(minutes: int) -> time:
    minutes %= 24 * 60
    return time(minutes // 60, minutes % 60)


@st.composite
def windows(draw: st.DrawFn, *, wrapping: bool) -> list[Window]:
    """Up to three windows of one day. With `wrapping`, windows may run past midnight and overlap
    (the engine accepts them even though the admin API refuses them)."""
    result: list[Window] = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            result.append(draw(st.sampled_from(DST_WINDOWS)))
            continue
        start = draw(st.integers(0, 95)) * 15
        longest = 24 * 60 if wrapping else 24 * 60 - start
        length = draw(st.integers(1, longest // 15)) * 15
        result.append((_hhmm(start), _hhmm(start + length)))
    if not wrapping:
        # The admin API's shape: sorted, no overlaps, nothing past midnight.
        result = _without_overlaps(result)
    return result


def _without_overlaps(items: list[Window]) -> list[Window]:
    def minutes(value: time, *, end: bool) -> int:
        total = value.hour * 60 + value.minute
        return 24 * 60 if end and total == 0 else total

    kept: list[Window] = []
    for window in sorted(items, key=lambda w: minutes(w[0], end=False)):
        start, end = minutes(window[0], end=False), minutes(window[1], end=True)
        if end <= start:
            continue
        if kept and start < minutes(kept[-1][1], end=True):
            continue
        kept.append(window)
    return kept


@st.composite
def clocks(draw: st.DrawFn) -> datetime:
    """'Now': within a few days before or one day after a clock change, to the second."""
    anchor = draw(st.sampled_from(CLOCK_CHANGE_DAYS))
    return anchor + timedelta(seconds=draw(st.integers(-3 * 86400, 86400)))


@st.composite
def rules(draw: st.DrawFn, *, now: datetime, max_horizon_days: int) -> AvailabilityRules:
    wrapping = draw(st.booleans())
    weekly = {weekday: draw(windows(wrapping=wrapping)) for weekday in range(7)}
    overrides: dict[date, list[Window]] = {}
    for _ in range(draw(st.integers(0, 3))):
        day = now.date() + timedelta(days=draw(st.integers(-2, max_horizon_days)))
        overrides[day] = [] if draw(st.booleans()) else draw(windows(wrapping=wrapping))
    return AvailabilityRules(
        timezone=draw(st.sampled_from(AGENT_ZONES)),
        weekly=weekly,
        overrides=overrides,
        # Drawn from typical values plus an odd offset: plain integer draws favour tiny values, which
        # would leave most examples without a single slot to check.
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 0, 15, 60, 240, 720])) + draw(st.sampled_from([0, 7]))),
        horizon=timedelta(days=draw(st.integers(1, max_horizon_days)), minutes=draw(st.integers(0, 24 * 60))),
        buffer_before=timedelta(minutes=draw(st.one_of(st.just(0), st.integers(0, 90)))),
        buffer_after=timedelta(minutes=draw(st.one_of(st.just(0), st.integers(0, 90)))),
        slot_interval=timedelta(minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60, 90]))),
        max_per_day=draw(st.one_of(st.none(), st.integers(1, 3))),
    )


@st.composite
def busy_intervals(draw: st.DrawFn, *, now: datetime, days: int) -> list[Interval]:
    """Busy times anywhere from two days before now to `days` after, not aligned to any grid."""
    intervals = []
    for _ in range(draw(st.integers(0, 15))):
        start = now + timedelta(seconds=draw(st.integers(-2 * 86400, days * 86400)))
        start = start.replace(second=draw(st.sampled_from([0, 0, 0, 30])), microsecond=0)
        intervals.append(Interval(start, start + timedelta(minutes=draw(st.integers(1, 300)))))
    return intervals


@st.composite
def booked_starts(draw: st.DrawFn, *, now: datetime, days: int) -> list[datetime]:
    """Starts of confirmed bookings, counted against the daily maximum."""
    return [
        (now + timedelta(minutes=draw(st.integers(-2 * 1440, days * 1440)))).replace(second=0, microsecond=0)
        for _ in range(draw(st.integers(0, 6)))
    ]


DURATIONS = st.sampled_from([5, 15, 30, 45, 60, 90, 120, 240]).map(lambda m: timedelta(minutes=m))


# Meeting types in a scenario: 0 is the one offered, 1 and 2 are the agent's others.
MEETING_TYPES = (0, 1, 2)


def _optional_minutes(maximum: int) -> st.SearchStrategy[int | None]:
    return st.one_of(st.none(), st.just(0), st.integers(0, maximum))


@st.composite
def type_buffers(draw: st.DrawFn) -> dict[int, tuple[int | None, int | None]]:
    """Each meeting type's own (buffer before, buffer after) minutes; None = the agent's."""
    return {
        meeting_type: (draw(_optional_minutes(120)), draw(_optional_minutes(120))) for meeting_type in MEETING_TYPES
    }


@st.composite
def own_rules(draw: st.DrawFn, *, buffers: tuple[int | None, int | None]) -> dict[str, int | None]:
    """The offered type's own rules (its buffers are those of `type_buffers`); None = the agent's."""
    return {
        "min_notice_minutes": draw(st.one_of(st.none(), st.sampled_from([0, 30, 180, 600 + 7]))),
        "buffer_before_minutes": buffers[0],
        "buffer_after_minutes": buffers[1],
        "max_per_day": draw(st.one_of(st.none(), st.integers(1, 2))),
    }


@st.composite
def bookings(
    draw: st.DrawFn, *, now: datetime, days: int, buffers: dict[int, tuple[int | None, int | None]]
) -> list[OracleBooking]:
    """Confirmed bookings of the agent's meeting types, on whole minutes, with their type's buffers."""
    result = []
    for _ in range(draw(st.integers(0, 8))):
        start = (now + timedelta(minutes=draw(st.integers(-2 * 1440, days * 1440)))).replace(second=0, microsecond=0)
        meeting_type = draw(st.sampled_from(MEETING_TYPES))
        before, after = buffers[meeting_type]
        length = timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 120])))
        result.append(OracleBooking(start, start + length, meeting_type, before, after))
    return result

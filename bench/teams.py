"""In-process timings of a team link's availability against SPEC §13 (team of 10, 1,000 busy each).

    .venv/bin/python -m bench.teams [--runs 300] [--repeats 5]

What the API does for a team question (shared.teams.availability), without the database: each of
the 10 members has their own 1,000 busy intervals over the 60-day horizon (a different random
calendar each, the density of bench.availability's agent); per call, each member's timeline is
built from what the API would read for the range (the intervals touching it), the unchanged engine
computes that member's free slots, and the team's answer is their union (round robin) or
intersection (collective). One date cycles through the working days, a month through the two
months the horizon touches. Timing as bench.availability (wall-clock p50/p95 per repeat, CPU p50,
median over repeats).
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from bench.availability import DURATION, Case, measure, render
from bench.data import FIXED_NOW, SEED, ZONE, bench_rules, busy_meetings, working_days
from shared.availability.engine import BusyTimeline, free_slots
from shared.availability.rules import Interval, Slot
from shared.models.team import MODE_COLLECTIVE, MODE_ROUND_ROBIN
from shared.teams.availability import combine

MEMBERS = 10


def member_calendars() -> list[list[Interval]]:
    return [
        [Interval(start, start + timedelta(minutes=m)) for start, m in busy_meetings(FIXED_NOW.date(), seed=SEED + n)]
        for n in range(MEMBERS)
    ]


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=ZONE).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=ZONE).astimezone(UTC)
    return start, end


def build_cases() -> tuple[list[Case], dict[str, object]]:
    rules = bench_rules()
    calendars = member_calendars()
    dates = [d for d in working_days(FIXED_NOW.date()) if d > FIXED_NOW.date()]
    day_bounds = [_bounds(d, d) for d in dates]
    month_bounds = [_bounds(date(2026, 6, 1), date(2026, 6, 30)), _bounds(date(2026, 7, 1), date(2026, 7, 31))]

    def reads(busy: list[Interval], start: datetime, end: datetime) -> list[Interval]:
        """What the service reads for the range: the intervals touching the slots' span."""
        return [i for i in busy if i.start < end + DURATION and i.end > start]

    # The reads per member and range are what the database hands over; prepared once, as rows.
    day_reads = [[reads(busy, s, e) for busy in calendars] for s, e in day_bounds]
    month_reads = [[reads(busy, s, e) for busy in calendars] for s, e in month_bounds]

    def team_call(
        mode: str, bounds: list[tuple[datetime, datetime]], per_range: list[list[list[Interval]]]
    ) -> Callable[[int], object]:
        def call(i: int) -> object:
            start, end = bounds[i % len(bounds)]
            per_member: list[list[Slot]] = [
                free_slots(
                    rules,
                    duration=DURATION,
                    busy=BusyTimeline(member_reads),
                    now=FIXED_NOW,
                    range_start=start,
                    range_end=end,
                )
                for member_reads in per_range[i % len(per_range)]
            ]
            slots = combine(mode, per_member)
            if bounds is month_bounds:
                return sorted({slot.start.astimezone(ZONE).date() for slot in slots})
            return slots

        return call

    cases = [
        Case("team of 10 round robin: slots, one date", 5.0, team_call(MODE_ROUND_ROBIN, day_bounds, day_reads)),
        Case("team of 10 collective: slots, one date", 5.0, team_call(MODE_COLLECTIVE, day_bounds, day_reads)),
        Case("team of 10 round robin: days of a month", 50.0, team_call(MODE_ROUND_ROBIN, month_bounds, month_reads)),
        Case("team of 10 collective: days of a month", 50.0, team_call(MODE_COLLECTIVE, month_bounds, month_reads)),
    ]
    facts: dict[str, object] = {
        "members": MEMBERS,
        "busy intervals per member": len(calendars[0]),
        "dates cycled": len(dates),
    }
    return cases, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300, help="timed calls per repeat (default 300)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported (default 5)")
    args = parser.parse_args(argv)
    cases, facts = build_cases()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"  now = {FIXED_NOW.isoformat()}")
    for key, value in facts.items():
        print(f"  {key}: {value}")
    results = [measure(case, runs=args.runs, repeats=args.repeats) for case in cases]
    print()
    print(render(results))
    missed = [r for r in results if r.budget_ms is not None and r.p50_ms > r.budget_ms]
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""In-process timings of the availability engine against SPEC §13.

    .venv/bin/python -m bench.availability [--runs 1000] [--repeats 5]

Each case is called `runs` times per repeat (after a warm-up), each call timed on its own with
perf_counter_ns (wall clock; the budget) and thread_time_ns (this thread's CPU time, which other
load on the machine barely moves); p50 and p95 are taken per repeat and the table shows the median
over the repeats.
The one-date cases cycle through every working day of the horizon, the month cases through the two
months the horizon touches, so no single easy date flatters the figures.

Rows "with buffers and per-type rules" read the busy time as the API hands it to the engine since
issue 13: every second meeting is a booking (`BookedTime`) of one of three meeting types, two of
which have buffers of their own (and the agent 10 before / 15 after), the rest calendar blocks; the
offered type has its own notice, buffers and daily maximum. On an engine from before issue 13
(`--before` runs from an older tree) the same meetings are passed as bare intervals and the agent's
buffers only: the work that engine did for the same question.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from bench.data import FIXED_NOW, ZONE, bench_rules, busy_intervals, busy_meetings, large_busy_meetings, working_days
from shared.availability import rules as rules_module
from shared.availability.engine import BusyTimeline, days_with_free_slots, free_slots
from shared.availability.rules import AvailabilityRules, Interval

# An engine from before issue 13 has neither bookings with buffers nor per-type rules.
HAS_TYPE_RULES = hasattr(rules_module, "BookedTime")

DURATION = timedelta(minutes=30)


@dataclass
class Case:
    name: str
    budget_ms: float | None
    call: Callable[[int], object]  # the i-th call


@dataclass
class Result:
    name: str
    runs: int
    repeats: int
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float
    budget_ms: float | None


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=ZONE).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZONE).astimezone(UTC)
    return start, end


# The three meeting types of the buffered workload: (buffer before, buffer after) in minutes, None =
# the agent's 10 / 15.
TYPE_BUFFERS: tuple[tuple[int | None, int | None], ...] = ((None, None), (5, 30), (0, 20))


def buffered_rules() -> AvailabilityRules:
    """The agent with buffers, and the offered type's own rules on top (when the engine has them)."""
    agent = replace(bench_rules(), buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=15))
    if not HAS_TYPE_RULES:
        return agent
    return agent.for_meeting_type(
        rules_module.MeetingTypeRules(
            min_notice=timedelta(hours=2),
            buffer_before=timedelta(minutes=5),
            buffer_after=timedelta(minutes=20),
            max_per_day=12,
        )
    )


def buffered_busy(meetings: list[tuple[datetime, int]]) -> list[object]:
    """Every second meeting a booking of one of the three types (with its buffers), the rest calendar
    blocks; on an old engine all bare intervals."""
    busy: list[object] = []
    for index, (start, minutes) in enumerate(meetings):
        end = start + timedelta(minutes=minutes)
        if HAS_TYPE_RULES and index % 2 == 0:
            before, after = TYPE_BUFFERS[(index // 2) % len(TYPE_BUFFERS)]
            busy.append(
                rules_module.BookedTime(
                    start,
                    end,
                    timedelta(minutes=10 if before is None else before),
                    timedelta(minutes=15 if after is None else after),
                )
            )
        else:
            busy.append(Interval(start, end))
    return busy


def _reads_for(busy: list[object], start: datetime, end: datetime, pad: timedelta) -> list[object]:
    """What the API reads for a date: the meetings whose occupied time touches the slots' padded span."""
    reach = timedelta(minutes=30) + pad
    return [b for b in busy if b.start - reach < end + DURATION + reach and b.end + reach > start - reach]  # type: ignore[attr-defined]


def build_cases() -> tuple[list[Case], dict[str, object]]:
    rules = bench_rules()
    intervals = busy_intervals(FIXED_NOW.date())
    timeline = BusyTimeline(intervals)
    dates = [d for d in working_days(FIXED_NOW.date()) if d > FIXED_NOW.date()]
    bounds = [_day_bounds(d) for d in dates]
    # What the API reads from the database for one date (shared.availability.service): the bookings
    # overlapping [day start - buffer before, day end + meeting length + buffer after).
    nearby = [
        [i for i in intervals if i.start < end + DURATION + rules.buffer_after and i.end > start - rules.buffer_before]
        for start, end in bounds
    ]
    months = [(date(2026, 6, 1), date(2026, 6, 30)), (date(2026, 7, 1), date(2026, 7, 31))]

    def one_date(busy_for: Callable[[int], BusyTimeline | list[Interval]]) -> Callable[[int], object]:
        def call(i: int) -> object:
            start, end = bounds[i % len(bounds)]
            return free_slots(
                rules, duration=DURATION, busy=busy_for(i), now=FIXED_NOW, range_start=start, range_end=end
            )

        return call

    def one_month(busy_for: Callable[[int], BusyTimeline | list[Interval]]) -> Callable[[int], object]:
        def call(i: int) -> object:
            first, last = months[i % len(months)]
            return days_with_free_slots(
                rules,
                duration=DURATION,
                busy=busy_for(i),
                now=FIXED_NOW,
                first_day=first,
                last_day=last,
                display_zone=ZONE,
            )

        return call

    empty: list[Interval] = []
    cases = [
        Case("free_slots, one date, timeline prebuilt (1,000 intervals)", 1.0, one_date(lambda i: timeline)),
        Case(
            "free_slots, one date, timeline built per call from 1,000 intervals",
            1.0,
            one_date(lambda i: BusyTimeline(intervals)),
        ),
        Case(
            "free_slots, one date, timeline built per call from what the API reads for the date",
            1.0,
            one_date(lambda i: BusyTimeline(nearby[i % len(nearby)])),
        ),
        Case("free_slots, one date, no busy time (reference)", None, one_date(lambda i: empty)),
        Case("days_with_free_slots, month, timeline prebuilt", 10.0, one_month(lambda i: timeline)),
        Case(
            "days_with_free_slots, month, timeline built per call from 1,000 intervals",
            10.0,
            one_month(lambda i: BusyTimeline(intervals)),
        ),
    ]

    # --- buffers on, per-type rules in play (issue 13) ---------------------------------------------
    buffered = buffered_rules()
    type_counts: dict[date, int] = {}
    booked_counts: dict[date, int] = {}

    def buffered_date(busy_for: Callable[[int], object], rules_for: AvailabilityRules) -> Callable[[int], object]:
        extra = {"type_booked_starts": type_counts} if HAS_TYPE_RULES else {}

        def call(i: int) -> object:
            start, end = bounds[i % len(bounds)]
            return free_slots(
                rules_for,
                duration=DURATION,
                busy=busy_for(i),  # type: ignore[arg-type]
                now=FIXED_NOW,
                range_start=start,
                range_end=end,
                booked_starts=booked_counts,
                **extra,  # type: ignore[arg-type]
            )

        return call

    def buffered_month(busy_for: Callable[[int], object], rules_for: AvailabilityRules) -> Callable[[int], object]:
        extra = {"type_booked_starts": type_counts} if HAS_TYPE_RULES else {}

        def call(i: int) -> object:
            first, last = months[i % len(months)]
            return days_with_free_slots(
                rules_for,
                duration=DURATION,
                busy=busy_for(i),  # type: ignore[arg-type]
                now=FIXED_NOW,
                first_day=first,
                last_day=last,
                display_zone=ZONE,
                booked_starts=booked_counts,
                **extra,  # type: ignore[arg-type]
            )

        return call

    busy_1k = buffered_busy(busy_meetings(FIXED_NOW.date()))
    timeline_1k = BusyTimeline(busy_1k)  # type: ignore[arg-type]
    pad = timedelta(minutes=30)
    nearby_1k = [_reads_for(busy_1k, start, end, pad) for start, end in bounds]
    busy_10k = buffered_busy(large_busy_meetings())
    timeline_10k = BusyTimeline(busy_10k)  # type: ignore[arg-type]
    nearby_10k = [_reads_for(busy_10k, start, end, pad) for start, end in bounds]
    small = busy_1k[::10]  # 100 intervals
    timeline_100 = BusyTimeline(small)  # type: ignore[arg-type]
    cases += [
        Case(
            "with buffers and per-type rules: free_slots, one date, timeline prebuilt (1,000)",
            1.0,
            buffered_date(lambda i: timeline_1k, buffered),
        ),
        Case(
            "with buffers and per-type rules: free_slots, one date, from what the API reads (1,000)",
            1.0,
            buffered_date(lambda i: BusyTimeline(nearby_1k[i % len(nearby_1k)]), buffered),  # type: ignore[arg-type]
        ),
        Case(
            "with buffers and per-type rules: days_with_free_slots, month, timeline prebuilt (1,000)",
            10.0,
            buffered_month(lambda i: timeline_1k, buffered),
        ),
        # SPEC §13: the fixed cost per day, which a team's month pays per member and day (§15).
        Case(
            "with buffers and per-type rules: free_slots, one date, 100 intervals prebuilt",
            0.03,
            buffered_date(lambda i: timeline_100, buffered),
        ),
        Case(
            "with buffers and per-type rules: free_slots, one date, timeline prebuilt (10,000)",
            1.0,
            buffered_date(lambda i: timeline_10k, buffered),
        ),
        Case(
            "with buffers and per-type rules: free_slots, one date, from what the API reads (10,000)",
            1.0,
            buffered_date(lambda i: BusyTimeline(nearby_10k[i % len(nearby_10k)]), buffered),  # type: ignore[arg-type]
        ),
        Case(
            "with buffers and per-type rules: days_with_free_slots, month, timeline prebuilt (10,000)",
            10.0,
            buffered_month(lambda i: timeline_10k, buffered),
        ),
    ]
    free_per_date = [len(one_date(lambda i: timeline)(i)) for i in range(len(bounds))]
    facts = {
        "busy intervals": len(intervals),
        "merged busy blocks": len(timeline),
        "working dates measured": len(bounds),
        "free 30-min slots per date (mean)": round(statistics.mean(free_per_date), 2),
        "free 30-min slots per date (min–max)": f"{min(free_per_date)}–{max(free_per_date)}",
        "intervals the API reads per date (mean)": round(statistics.mean(len(n) for n in nearby), 1),
        "engine": "issue 13 (bookings with their own buffers, per-type rules)" if HAS_TYPE_RULES else "before issue 13",
        "buffered workload: merged blocks (1,000 / 10,000)": f"{len(timeline_1k)} / {len(timeline_10k)}",
        "buffered workload: what the API reads per date, mean (1,000 / 10,000)": (
            f"{statistics.mean(len(n) for n in nearby_1k):.1f} / {statistics.mean(len(n) for n in nearby_10k):.1f}"
        ),
    }
    return cases, facts


def measure(case: Case, *, runs: int, repeats: int) -> Result:
    for i in range(min(runs, 200)):  # warm-up
        case.call(i)
    p50s: list[float] = []
    p95s: list[float] = []
    cpu_p50s: list[float] = []
    for _ in range(repeats):
        timings: list[int] = []
        cpu_timings: list[int] = []
        for i in range(runs):
            cpu_started = clock.thread_time_ns()
            started = clock.perf_counter_ns()
            case.call(i)
            timings.append(clock.perf_counter_ns() - started)
            cpu_timings.append(clock.thread_time_ns() - cpu_started)
        timings.sort()
        cpu_timings.sort()
        p50s.append(timings[len(timings) // 2] / 1e6)
        p95s.append(timings[min(len(timings) - 1, int(len(timings) * 0.95))] / 1e6)
        cpu_p50s.append(cpu_timings[len(cpu_timings) // 2] / 1e6)
        gc.collect()
    return Result(
        case.name,
        runs,
        repeats,
        statistics.median(p50s),
        statistics.median(p95s),
        statistics.median(cpu_p50s),
        case.budget_ms,
    )


def render(results: list[Result]) -> str:
    lines = [
        "| case | runs × repeats | p50 (ms) | p95 (ms) | p50 CPU (ms) | budget p50 | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        budget = f"≤ {r.budget_ms:g} ms" if r.budget_ms is not None else "—"
        verdict = "—" if r.budget_ms is None else ("within" if r.p50_ms <= r.budget_ms else "MISSED")
        lines.append(
            f"| {r.name} | {r.runs} × {r.repeats} | {r.p50_ms:.4f} | {r.p95_ms:.4f} | {r.cpu_p50_ms:.4f} "
            f"| {budget} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000, help="timed calls per repeat (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported (default 5)")
    args = parser.parse_args(argv)
    cases, facts = build_cases()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"  now = {FIXED_NOW.isoformat()}")
    print("  load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for key, value in facts.items():
        print(f"  {key}: {value}")
    results = [measure(case, runs=args.runs, repeats=args.repeats) for case in cases]
    print("  load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print()
    print(render(results))
    missed = [r for r in results if r.budget_ms is not None and r.p50_ms > r.budget_ms]
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

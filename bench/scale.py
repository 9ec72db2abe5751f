"""SPEC §13's rows at 1×, 10× and 100× the data (issue 18): how each cost grows with the tables.

    .venv/bin/python -m bench.scale [--scales 1,10,100] [--repeat 5] [--bookings 600] [--no-http] [--explain]

A throwaway PostgreSQL cluster (tests/pg.py, on /dev/shm when it has room); per scale one database
filled by bench.generate_scale (the busy agent, the team of ten and their bookings are the same at
every scale, the rest of the tables grow), measured, then dropped before the next scale. On each:

- slots for one date and days of a month for the busy agent (about 1,000 confirmed bookings in the
  60-day horizon, Mon–Sun 07:00–21:00), through shared.availability.service's available_slots /
  available_days with the agent and type loaded first, and the whole miss path (link, meeting type,
  busy read, engine), in a fresh session per call; dates cycle through the horizon;
- the same for the team of ten (shared.teams.availability, round robin and collective);
- the funnel (shared.funnel.service.funnel, with the per-day summary's refresh as the admin API runs it)
  unfiltered, for the busy agent and for the last 30 days of events;
- the outbox claim with the scale's future jobs and 50 due (bench.outbox_claim.claim_times);
- with HTTP (unless --no-http): `GET …/slots` and `…/days` of the busy agent through one uvicorn
  process with the answer cache off (every request a miss), one client, latency p50;
- distinct-slot bookings through `uvicorn --workers 3` (bench.booking_cpu.run: bench.bookings's
  planned bookings and `fire`, and the API's CPU from /proc), --bookings per run, 20 new agents.

The in-process cases are interleaved: every repeat runs each case once (a batch of calls), and the
figure is the median over the repeats of each batch's p50. Bookings run last (they add outbox jobs).
--explain prints EXPLAIN (ANALYZE, BUFFERS) of every statement the hot calls issue (captured from
the engine, run again with their parameters and rolled back) at the largest scale, with the indexes
each plan uses and any sequential scan of a growing table.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from bench.booking_cpu import run as booking_run
from bench.bookings import API_ENV
from bench.data import ZONE
from bench.generate_events import END as FUNNEL_END
from bench.generate_scale import SCALES, ScaleData, generate
from bench.outbox_claim import FILL, claim_times
from shared.agents.service import get_agent_by_link, get_bookable_meeting_type
from shared.availability.service import available_days, available_slots, default_sources
from shared.db import build_engine, build_sessionmaker
from shared.funnel.service import funnel
from shared.funnel.summary import refresh_in_own_transaction
from shared.models import Agent, MeetingType, Team
from shared.outbox.service import claim_due_jobs
from shared.settings import Settings
from shared.teams.availability import team_available_days, team_available_slots
from shared.teams.service import get_bookable_team_meeting_type, get_team_by_link
from tests.live import running_api
from tests.pg import ThrowawayPostgres

DUE_JOBS = 50
GROWING_TABLES = (
    "agents",
    "bookings",
    "events",
    "funnel_sessions",
    "funnel_session_meeting_types",
    "outbox_jobs",
    "contacts",
)


@dataclass
class Case:
    """One figure: `run` makes one batch of timed calls and returns each call's ms."""

    kind: str
    name: str
    budget_ms: float | None
    run: Callable[[], list[float]]


Prepare = Callable[[Session, int], Callable[[], object]]


def _calls(prepare: Prepare, factory: sessionmaker[Session], runs: int) -> Callable[[], list[float]]:
    """A batch of `runs` calls, each in a fresh session: `prepare` (untimed) returns the timed call."""

    def run() -> list[float]:
        times = []
        for i in range(runs):
            with factory() as session:
                call = prepare(session, i)
                started = time.perf_counter()
                call()
                times.append((time.perf_counter() - started) * 1000)
        return times

    return run


def _horizon_dates(data: ScaleData) -> list[date]:
    today = data.now.astimezone(ZONE).date()
    return [today + timedelta(days=n) for n in range(2, 59)]


def _month(data: ScaleData) -> str:
    return (data.now + timedelta(days=30)).astimezone(ZONE).strftime("%Y-%m")


def _agent_and_type(session: Session, data: ScaleData) -> tuple[Agent, MeetingType]:
    agent = get_agent_by_link(session, link=data.busy_link)
    meeting_type = get_bookable_meeting_type(session, agent=agent, meeting_type_id=data.busy_meeting_type_id)
    return agent, meeting_type


def _team_and_type(session: Session, link: str, meeting_type_id: int) -> tuple[Team, MeetingType]:
    team = get_team_by_link(session, link=link)
    return team, get_bookable_team_meeting_type(session, team=team, meeting_type_id=meeting_type_id)


def build_cases(factory: sessionmaker[Session], data: ScaleData, *, runs: int, funnel_runs: int) -> list[Case]:
    dates = _horizon_dates(data)
    month = _month(data)
    sources = default_sources()

    def loaded(session: Session) -> tuple[Agent, MeetingType]:
        agent, meeting_type = _agent_and_type(session, data)
        _ = agent.availability.weekly  # loaded before the clock starts
        return agent, meeting_type

    def slots_only(session: Session, i: int) -> Callable[[], object]:
        agent, meeting_type = loaded(session)
        day = dates[i % len(dates)]
        return lambda: available_slots(
            session, agent=agent, meeting_type=meeting_type, day=day, display_zone=ZONE, now=data.now, sources=sources
        )

    def slots_whole(session: Session, i: int) -> Callable[[], object]:
        day = dates[i % len(dates)]

        def call() -> object:
            agent, meeting_type = _agent_and_type(session, data)
            return available_slots(
                session,
                agent=agent,
                meeting_type=meeting_type,
                day=day,
                display_zone=ZONE,
                now=data.now,
                sources=sources,
            )

        return call

    def days_only(session: Session, i: int) -> Callable[[], object]:
        agent, meeting_type = loaded(session)
        return lambda: available_days(
            session,
            agent=agent,
            meeting_type=meeting_type,
            month=month,
            display_zone=ZONE,
            now=data.now,
            sources=sources,
        )

    def days_whole(session: Session, i: int) -> Callable[[], object]:
        def call() -> object:
            agent, meeting_type = _agent_and_type(session, data)
            return available_days(
                session,
                agent=agent,
                meeting_type=meeting_type,
                month=month,
                display_zone=ZONE,
                now=data.now,
                sources=sources,
            )

        return call

    def team_slots(link: str, type_id: int) -> Prepare:
        def prepare(session: Session, i: int) -> Callable[[], object]:
            day = dates[i % len(dates)]

            def call() -> object:
                team, meeting_type = _team_and_type(session, link, type_id)
                return team_available_slots(
                    session,
                    team=team,
                    meeting_type=meeting_type,
                    day=day,
                    display_zone=ZONE,
                    now=data.now,
                    sources=sources,
                )

            return call

        return prepare

    def team_days(link: str, type_id: int) -> Prepare:
        def prepare(session: Session, i: int) -> Callable[[], object]:
            def call() -> object:
                team, meeting_type = _team_and_type(session, link, type_id)
                return team_available_days(
                    session,
                    team=team,
                    meeting_type=meeting_type,
                    month=month,
                    display_zone=ZONE,
                    now=data.now,
                    sources=sources,
                )

            return call

        return prepare

    def funnel_of(**filters: Any) -> Prepare:
        def call(session: Session) -> object:
            # As the admin API and the dashboard call it: with the summary's refresh in its own unit of work.
            return funnel(session, refresh=lambda: refresh_in_own_transaction(factory, now=data.now), **filters)

        return lambda session, i: lambda: call(session)

    def claims() -> list[float]:
        with factory() as session:
            times, _ = claim_times(session, now=data.now, claims=runs)
        return times

    slots_kind, team_kind, funnel_kind = "slots", "team", "funnel"
    rr, co = (data.team_link, data.team_meeting_type_id), (data.collective_link, data.collective_meeting_type_id)
    return [
        Case(
            slots_kind,
            "slots for one date: available_slots (agent, type loaded)",
            1.0,
            _calls(slots_only, factory, runs),
        ),
        Case(slots_kind, "slots for one date: link + type + available_slots", None, _calls(slots_whole, factory, runs)),
        Case(
            slots_kind, "days of a month: available_days (agent, type loaded)", 10.0, _calls(days_only, factory, runs)
        ),
        Case(slots_kind, "days of a month: link + type + available_days", None, _calls(days_whole, factory, runs)),
        Case(
            team_kind,
            "round robin: slots for one date (link + type + slots)",
            5.0,
            _calls(team_slots(*rr), factory, runs),
        ),
        Case(team_kind, "round robin: days of a month", 50.0, _calls(team_days(*rr), factory, max(runs // 5, 5))),
        Case(team_kind, "collective: slots for one date", 5.0, _calls(team_slots(*co), factory, runs)),
        Case(team_kind, "collective: days of a month", 50.0, _calls(team_days(*co), factory, max(runs // 5, 5))),
        Case(funnel_kind, "unfiltered (daily trend)", 1000.0, _calls(funnel_of(), factory, funnel_runs)),
        Case(
            funnel_kind,
            "one agent (the busy agent)",
            300.0,
            _calls(funnel_of(agent_id=data.busy_agent_id), factory, funnel_runs),
        ),
        Case(
            funnel_kind,
            "the last 30 days of events (daily trend)",
            1000.0,
            _calls(funnel_of(start=FUNNEL_END - timedelta(days=30), end=FUNNEL_END), factory, funnel_runs),
        ),
        Case("outbox", f"claim of 20, {DUE_JOBS} due", 5.0, claims),
    ]


def interleaved(cases: Sequence[Case], repeat: int) -> dict[str, tuple[float, float]]:
    """(median of the batches' p50, median of their p95) per case name; one warm-up batch first."""
    p50s: dict[str, list[float]] = {case.name: [] for case in cases}
    p95s: dict[str, list[float]] = {case.name: [] for case in cases}
    for case in cases:
        case.run()
    for _ in range(repeat):
        for case in cases:
            times = sorted(case.run())
            p50s[case.name].append(statistics.median(times))
            p95s[case.name].append(times[min(len(times) - 1, int(len(times) * 0.95))])
    return {name: (statistics.median(p50s[name]), statistics.median(p95s[name])) for name in p50s}


@contextmanager
def due_jobs(engine: Engine, now: datetime) -> Iterator[None]:
    """`DUE_JOBS` pending jobs due now, for the claim to find; removed afterwards."""
    with engine.begin() as connection:
        parameters = {"status": "pending", "attempts": 0, "now": now, "spread_seconds": -60, "rows": DUE_JOBS}
        connection.execute(text(FILL), parameters)
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM outbox_jobs WHERE status = 'pending' AND next_attempt_at <= :now"), {"now": now}
            )


def http_latencies(url: str, data: ScaleData, *, requests: int) -> dict[str, float]:
    """p50 ms of `GET …/slots` and `…/days` of the busy agent, one uvicorn process, answer cache off."""
    dates = _horizon_dates(data)
    env = {**API_ENV, "MEETINGS_AVAILABILITY_CACHE_SECONDS": "0"}
    paths = {
        "GET …/slots (one date)": [
            f"/api/v1/links/{data.busy_link}/slots?meeting_type_id={data.busy_meeting_type_id}"
            f"&date={dates[i % len(dates)].isoformat()}&tz={ZONE.key}"
            for i in range(requests)
        ],
        "GET …/days (a month)": [
            f"/api/v1/links/{data.busy_link}/days?meeting_type_id={data.busy_meeting_type_id}"
            f"&month={_month(data)}&tz={ZONE.key}"
        ]
        * requests,
    }
    figures: dict[str, float] = {}
    with running_api(url, workers=1, extra_env=env) as base_url, httpx.Client(base_url=base_url) as client:
        for name, urls in paths.items():
            for path in urls[:20]:  # warm-up
                client.get(path).raise_for_status()
            times = []
            for path in urls:
                started = time.perf_counter()
                client.get(path).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            figures[name] = statistics.median(times)
    return figures


_INDEX = re.compile(r"(?:Index Scan|Index Only Scan)(?: Backward)? using (\S+)|Bitmap Index Scan on (\S+)")
_SEQ = re.compile(r"Seq Scan on (\S+)")


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The (statement, parameters) the engine sends while the block runs."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain(engine: Engine, factory: sessionmaker[Session], data: ScaleData) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement the hot calls issue, as Markdown sections."""
    dates = _horizon_dates(data)
    sources = default_sources()

    def slots(session: Session) -> object:
        agent, meeting_type = _agent_and_type(session, data)
        return available_slots(
            session,
            agent=agent,
            meeting_type=meeting_type,
            day=dates[10],
            display_zone=ZONE,
            now=data.now,
            sources=sources,
        )

    def days(session: Session) -> object:
        agent, meeting_type = _agent_and_type(session, data)
        return available_days(
            session,
            agent=agent,
            meeting_type=meeting_type,
            month=_month(data),
            display_zone=ZONE,
            now=data.now,
            sources=sources,
        )

    def claim(session: Session) -> object:
        return claim_due_jobs(session, worker_id="explain", now=data.now, limit=20, lease_seconds=120)

    calls: list[tuple[str, Callable[[Session], object]]] = [
        ("slots for one date (busy agent)", slots),
        ("days of a month (busy agent)", days),
        ("funnel, unfiltered", lambda session: funnel(session)),
        ("funnel, one agent", lambda session: funnel(session, agent_id=data.busy_agent_id)),
        (f"outbox claim ({DUE_JOBS} due)", claim),
    ]
    sections: list[str] = []
    done: set[str] = set()
    with due_jobs(engine, data.now):
        for label, call in calls:
            with factory() as session:
                call(session)  # warm: the first run loads the ORM's caches
                session.rollback()
                with captured(engine) as seen:
                    call(session)
                session.rollback()
            number = 0
            for statement, parameters in seen:
                # Each call's reads of bookings are shown (slots and days share a statement, not a range);
                # the small reads (link, meeting type) once.
                key = f"{label}\n{statement}" if "FROM bookings" in statement else statement
                if not statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE")) or key in done:
                    continue
                done.add(key)
                number += 1
                raw = engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    cursor.execute("SET LOCAL jit = off")
                    cursor.execute("SET LOCAL work_mem = '128MB'")  # as the funnel sets it
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    cursor.close()
                    raw.rollback()
                finally:
                    raw.close()
                indexes = sorted({a or b for a, b in _INDEX.findall(plan)})
                scans = sorted(set(_SEQ.findall(plan)) & set(GROWING_TABLES))
                sections.append(
                    f"#### {label}, statement {number}\n\nindexes: {', '.join(indexes) or 'none'}; "
                    f"sequential scans of growing tables: {', '.join(scans) or 'none'}\n\n"
                    f"```sql\n{statement.strip()}\n```\n\n```\n{plan}\n```\n"
                )
    return sections


@dataclass
class ScaleFigures:
    data: ScaleData
    timings: dict[str, tuple[float, float]]
    http: dict[str, float]
    bookings: list[tuple[float, float]]  # (bookings/s, API CPU ms per booking) per run
    load: tuple[float, float, float]
    explain: list[str]


def measure_scale(
    cluster: ThrowawayPostgres, scale: int, args: argparse.Namespace, *, explain_it: bool
) -> ScaleFigures:
    database = cluster.create_database()
    url = cluster.url(database)
    try:
        started = time.perf_counter()
        data = generate(url, scale=scale)
        data.seconds["total"] = round(time.perf_counter() - started, 1)
        engine = build_engine(Settings(environment="development", database_url=url))
        factory = build_sessionmaker(engine)
        try:
            cases = build_cases(factory, data, runs=args.runs, funnel_runs=args.funnel_runs)
            with due_jobs(engine, data.now):
                timings = interleaved(cases, args.repeat)
            sections = explain(engine, factory, data) if explain_it else []
        finally:
            engine.dispose()
        http = {} if args.no_http else http_latencies(url, data, requests=args.http_requests)
        bookings = [booking_run(url, workers=3, requests=args.bookings, agents=20) for _ in range(args.booking_repeat)]
        return ScaleFigures(data, timings, http, bookings, os.getloadavg(), sections)
    finally:
        cluster.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


def _budget(ms: float | None) -> str:
    return "—" if ms is None else f"≤ {ms:g} ms"


def _cell(value: float, budget: float | None, *, p95: float | None = None) -> str:
    text_ = f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if p95 is not None:
        text_ += f" (p95 {p95:.3f})" if p95 < 10 else f" (p95 {p95:.1f})"
    return text_ + (" **over**" if budget is not None and value > budget else "")


# Row kinds whose SPEC budget is for the engine alone, in-process without a database (bench.availability,
# bench.teams): here with the database reads, so the budget is shown for reference and the question is
# whether the figure stays flat as the tables grow (SPEC: "every budget above still holds").
ENGINE_BUDGETS = ("slots", "team")


def render(figures: list[ScaleFigures], cases: list[Case], baseline: list[tuple[float, float]]) -> tuple[str, bool]:
    """The Markdown tables (one per row kind, a column per scale) and whether every budget held."""
    head = " | ".join(f"{f.data.scale}×" for f in figures)
    rule = "|---|---|" + "---|" * len(figures)
    loads = "; ".join(f"{f.data.scale}×: {' '.join(f'{x:.2f}' for x in f.load)}" for f in figures)
    load_line = f"load average (1, 5, 15 min) after each scale's measurements: {loads}; {os.cpu_count()} CPUs"
    out: list[str] = []
    met = True
    sizes = [
        ("agents", "agents"),
        ("bookings", "bookings"),
        ("contacts", "contacts"),
        ("step events", "events"),
        ("funnel sessions (rollup rows)", "funnel_sessions"),
        ("outbox jobs (future pending + done)", "outbox_jobs"),
        ("busy agent's confirmed bookings in the 60-day horizon", "busy agent's confirmed bookings in the horizon"),
        ("overlapping confirmed bookings of one agent (must be 0)", "overlapping confirmed bookings"),
    ]
    out += ["### The data", "", f"| rows | | {head} |", rule]
    out += [f"| {label} | | {' | '.join(f'{f.data.counts[key]:,}' for f in figures)} |" for label, key in sizes]
    out.append(f"| generation time (s) | | {' | '.join(str(f.data.seconds['total']) for f in figures)} |")
    out += ["", load_line, ""]
    titles = {
        "slots": "Slots and days of the busy agent, in-process through the service, fresh session per call (ms)",
        "team": "Team of ten busy agents (SPEC §15), link + type + team availability, fresh session (ms)",
        "funnel": "Funnel (shared.funnel.service.funnel), fresh session (ms)",
        "outbox": "Outbox claim (shared.outbox.service.claim_due_jobs), batch 20, rolled back (ms)",
    }
    for kind, title in titles.items():
        budget_head = "SPEC budget p50 (engine alone, no database)" if kind in ENGINE_BUDGETS else "budget p50"
        out += [f"### {title}", "", f"| what | {budget_head} | {head} | largest ÷ smallest |", rule + "---|"]
        for case in (c for c in cases if c.kind == kind):
            cells = []
            applies = None if kind in ENGINE_BUDGETS else case.budget_ms
            for f in figures:
                p50, p95 = f.timings[case.name]
                cells.append(_cell(p50, applies, p95=p95))
                met = met and (applies is None or p50 <= applies)
            growth = figures[-1].timings[case.name][0] / figures[0].timings[case.name][0]
            cells.append(f"{growth:.2f}")
            name = case.name
            if kind == "outbox":
                name += " (" + " / ".join(f"{SCALES[f.data.scale][3]:,}" for f in figures) + " future jobs)"
            out.append(f"| {name} | {_budget(case.budget_ms)} | {' | '.join(cells)} |")
        out += ["", load_line, ""]
    if any(f.http for f in figures):
        out += ["### HTTP, one uvicorn process, answer cache off (every request a miss), one client (ms p50)", ""]
        out += [f"| what | budget | {head} |", rule]
        for name in figures[0].http:
            out.append(f"| {name} | — | {' | '.join(f'{f.http[name]:.2f}' for f in figures)} |")
        out += ["", load_line, ""]
    out += ["### Distinct-slot bookings, PostgreSQL, `uvicorn --workers 3`, 32 client threads", ""]
    out += [f"| what | budget | empty database | {head} |", "|---|---|---|" + "---|" * len(figures)]
    all_runs = [baseline, *(f.bookings for f in figures)]
    rates = [statistics.median(r for r, _ in runs_) for runs_ in all_runs]
    cpus = [statistics.median(c for _, c in runs_) for runs_ in all_runs]
    runs = [", ".join(f"{r:.0f}" for r, _ in runs_) for runs_ in all_runs]
    rate_cells = [f"{r:.0f} ({rs})" + ("" if r >= 300 else " **under**") for r, rs in zip(rates, runs, strict=True)]
    out.append(f"| bookings/s (median; runs) | ≥ 300/s | {' | '.join(rate_cells)} |")
    out.append(f"| API CPU per booking (ms, user + sys, median) | — | {' | '.join(f'{c:.2f}' for c in cpus)} |")
    met = met and all(r >= 300 for r in rates[1:])
    out += ["", load_line, ""]
    return "\n".join(out), met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10,100", help="comma-separated, of 1, 10, 100")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repeats; medians are reported")
    parser.add_argument("--runs", type=int, default=100, help="calls per batch (slots, days, team, claim)")
    parser.add_argument("--funnel-runs", type=int, default=3, help="funnel calls per batch")
    parser.add_argument("--bookings", type=int, default=600, help="bookings per run")
    parser.add_argument("--booking-repeat", type=int, default=3)
    parser.add_argument("--http-requests", type=int, default=300)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) at the largest scale")
    args = parser.parse_args(argv)
    scales = sorted(int(s) for s in args.scales.split(","))
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
    cluster = ThrowawayPostgres()
    cluster.start()
    figures: list[ScaleFigures] = []
    try:
        # The same bookings load on an empty database first: what the scaled ones compare with.
        baseline = [
            booking_run(cluster.url(cluster.create_database()), workers=3, requests=args.bookings, agents=20)
            for _ in range(args.booking_repeat)
        ]
        for scale in scales:
            figures.append(measure_scale(cluster, scale, args, explain_it=args.explain and scale == scales[-1]))
    finally:
        cluster.stop()
    print()
    cases = build_cases(sessionmaker(), figures[0].data, runs=1, funnel_runs=1)  # names, kinds and budgets
    tables, met = render(figures, cases, baseline)
    print(tables)
    for section in figures[-1].explain:
        print(section)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

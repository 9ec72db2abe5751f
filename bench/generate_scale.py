"""The product's data at 1×, 10× or 100× (issue 18), loaded into a PostgreSQL database.

    .venv/bin/python -m bench.generate_scale DATABASE_URL [--scale 1|10|100] [--seed S]

| scale | agents | bookings (background) | step events | future outbox jobs |
|---|---|---|---|---|
| 1 | 20 | 10,000 | 100,000 | 10,000 |
| 10 | 200 | 100,000 | 1,000,000 | 100,000 |
| 100 | 2,000 | 1,000,000 | 10,000,000 | 1,000,000 |

Agents come from the real service (shared.agents.service.create_agent: availability and the
predefined meeting types as a new agent has them). Ten of them are *busy agents*, the same at every
scale: Warsaw, Mon–Sun 07:00–21:00, about 1,000 confirmed bookings in the 60-day horizon and 500 in
the month before; the first is "the busy agent" of the slots rows, and all ten are the members of two
teams (round robin and collective, one 30-minute team type each; a third of the round-robin members'
future bookings are team bookings). The other agents keep the default hours (Mon–Fri 09:00–17:00)
and share the scale's background bookings over the last 365 days and the horizon, so the table grows
with the scale while what the busy agent's dates hold does not. Bookings never overlap per agent
(each day's bookings are laid end to end with random gaps on a 15-minute grid, so the unique index on
(agent, start) of confirmed bookings and the product's no-overlap rule hold); 12 % are cancelled;
each contact has two bookings on average.

Step events come in widget sessions from bench.generate_events's session generator; then the funnel
rollup is rebuilt (shared.funnel.rollup.rebuild) and its per-day summary refreshed
(shared.funnel.summary.refresh_summary, as the product's first funnel call would). Outbox jobs:
pending reminders over the next 30 days and a done history of a fifth as many, by
bench.outbox_claim's set-based INSERT … SELECT.

Everything is loaded with COPY (psycopg's cursor.copy) with the tables' secondary indexes dropped and
built again afterwards (a bulk build is several times faster than keeping them up to date row by
row) and the foreign-key triggers off for the COPY (session_replication_role = replica: the rows are
made consistent here), then VACUUM ANALYZE. Each part's time is printed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from sqlalchemy import Engine, text

from bench.data import ZONE
from bench.generate_events import Agents, events
from bench.outbox_claim import FILL
from shared.agents.service import create_agent
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.funnel import rollup, summary
from shared.migrate import upgrade_to_head
from shared.models.team import MODE_COLLECTIVE, MODE_ROUND_ROBIN
from shared.settings import Settings
from shared.teams.service import create_team, create_team_meeting_type

# scale -> (agents, background bookings, step events, future outbox jobs)
SCALES: dict[int, tuple[int, int, int, int]] = {
    1: (20, 10_000, 100_000, 10_000),
    10: (200, 100_000, 1_000_000, 100_000),
    100: (2_000, 1_000_000, 10_000_000, 1_000_000),
}
BUSY_AGENTS = 10
BUSY_HORIZON_CONFIRMED = 1_000
BUSY_PAST = 500
BUSY_WEEKLY = {day: [["07:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
BUSY_WINDOW = (clock(7, 0), clock(21, 0))
BACKGROUND_WINDOW = (clock(9, 0), clock(17, 0))  # the default hours, Mon–Fri
HORIZON_DAYS = 60
HISTORY_DAYS = 365
CANCELLED_SHARE = 0.12
GRID_MINUTES = 15

BOOKING_COLUMNS = (
    "agent_id",
    "team_id",
    "meeting_type_id",
    "contact_id",
    "start_at",
    "end_at",
    "invitee_timezone",
    "locale",
    "first_name",
    "last_name",
    "company_name",
    "email",
    "description",
    "status",
    "manage_token",
    "sequence",
    "cancel_reason",
    "cancelled_at",
    "location_kind",
    "created_at",
    "updated_at",
)
CONTACT_COLUMNS = ("id", "email", "first_name", "last_name", "company", "created_at", "updated_at")
EVENT_COLUMNS = ("name", "attributes", "occurred_at", "agent_id", "meeting_type_id", "session_id", "visitor_id")


@dataclass
class ScaleData:
    """What a generated database holds, and what the measurements need from it."""

    scale: int
    now: datetime
    busy_agent_id: int
    busy_link: str
    busy_meeting_type_id: int  # its 30-minute type ("Demo")
    team_id: int  # round robin, the ten busy agents
    team_link: str
    team_meeting_type_id: int
    collective_team_id: int
    collective_link: str
    collective_meeting_type_id: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Agent:
    id: int
    types: dict[int, int]  # duration minutes -> meeting type id
    busy: bool


def copy_rows(engine: Engine, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """COPY `rows` into `table` in one transaction, foreign-key triggers off; returns the row count."""
    raw = engine.raw_connection()
    written = 0
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute("SET LOCAL session_replication_role = replica")
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        raw.commit()
    finally:
        raw.close()
    return written


@contextmanager
def secondary_indexes_dropped(engine: Engine, tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' indexes that back no constraint, and build them again on the way out."""
    query = text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(:tables)"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )
    with engine.begin() as connection:
        indexes = connection.execute(query, {"tables": list(tables)}).all()
        for name, _ in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            for _, definition in indexes:
                connection.execute(text(definition))


def _timed(seconds: dict[str, float], part: str, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = call()
    seconds[part] = round(time.perf_counter() - started, 1)
    print(f"  {part}: {seconds[part]} s", flush=True)
    return result


def _make_agents(engine: Engine, count: int, scale: int) -> list[_Agent]:
    with session_scope(build_sessionmaker(engine)) as session:
        made = []
        for n in range(count):
            agent = create_agent(
                session, name=f"Agent {n}", email=f"agent{n}@scale{scale}.example.com", timezone=ZONE.key
            )
            if n < BUSY_AGENTS:
                agent.availability.weekly = BUSY_WEEKLY
            made.append(agent)
        session.flush()
        return [
            _Agent(a.id, {m.duration_minutes: m.id for m in a.meeting_types}, n < BUSY_AGENTS)
            for n, a in enumerate(made)
        ]


def _make_teams(engine: Engine, busy: list[_Agent], now: datetime) -> tuple[tuple[int, str, int], ...]:
    """(team id, link, 30-minute team type id) of the round-robin and the collective team."""
    with session_scope(build_sessionmaker(engine)) as session:
        made = []
        for name, mode in (("Busy desk", MODE_ROUND_ROBIN), ("Busy panel", MODE_COLLECTIVE)):
            team = create_team(session, name=name, mode=mode, member_ids=[a.id for a in busy], now=now)
            kind = create_team_meeting_type(session, team_id=team.id, name="Team call", duration_minutes=30)
            made.append((team.id, team.link, kind.id))
        return tuple(made)


def _day_bookings(
    rng: random.Random, day: date, window: tuple[clock, clock], durations: list[int]
) -> list[tuple[datetime, int]]:
    """(UTC start, minutes) of bookings laid end to end inside the day's window, random gaps between
    them on the 15-minute grid; as many of `durations` as fit."""
    opens = datetime.combine(day, window[0], tzinfo=ZONE)
    length = int((datetime.combine(day, window[1], tzinfo=ZONE) - opens).total_seconds() // 60)
    while durations and sum(durations) > length:
        durations = durations[:-1]
    units = (length - sum(durations)) // GRID_MINUTES
    cuts = sorted(rng.randint(0, units) for _ in durations)
    made, position, previous = [], 0, 0
    for cut, minutes in zip(cuts, durations, strict=True):
        position += (cut - previous) * GRID_MINUTES
        made.append(((opens + timedelta(minutes=position)).astimezone(UTC), minutes))
        position += minutes
        previous = cut
    return made


def _agent_bookings(
    rng: random.Random, days: list[date], count: int, window: tuple[clock, clock], durations: Sequence[int]
) -> list[tuple[datetime, int]]:
    per_day: dict[date, list[int]] = {}
    for _ in range(count):
        per_day.setdefault(rng.choice(days), []).append(rng.choice(durations))
    return [slot for day in sorted(per_day) for slot in _day_bookings(rng, day, window, per_day[day])]


def _days(first: date, last: date, *, weekdays_only: bool) -> list[date]:
    span = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return [d for d in span if not weekdays_only or d.weekday() < 5]


def _booking_rows(
    rng: random.Random, agents: list[_Agent], *, background: int, now: datetime, team: tuple[int, str, int]
) -> Iterator[tuple[object, ...]]:
    """Every agent's bookings as COPY rows; each ends with the contact's index (replaced by its id)."""
    today = now.astimezone(ZONE).date()
    horizon = _days(today + timedelta(days=1), today + timedelta(days=HORIZON_DAYS), weekdays_only=False)
    month_before = _days(today - timedelta(days=30), today - timedelta(days=1), weekdays_only=False)
    history = _days(today - timedelta(days=HISTORY_DAYS), today + timedelta(days=HORIZON_DAYS), weekdays_only=True)
    others = [a for a in agents if not a.busy]
    team_id, _, team_type = team
    number = 0
    for agent in agents:
        durations = sorted(agent.types)
        if agent.busy:
            planned = _agent_bookings(rng, month_before, BUSY_PAST, BUSY_WINDOW, durations)
            # Extra draws for the cancelled share, so about 1,000 stay confirmed.
            wanted = round(BUSY_HORIZON_CONFIRMED / (1 - CANCELLED_SHARE))
            planned += _agent_bookings(rng, horizon, wanted, BUSY_WINDOW, durations)
        else:
            share = background // len(others) + (1 if others.index(agent) < background % len(others) else 0)
            planned = _agent_bookings(rng, history, share, BACKGROUND_WINDOW, durations)
        for start, minutes in planned:
            cancelled = rng.random() < CANCELLED_SHARE
            created = min(start, now) - timedelta(days=rng.randint(1, 20), minutes=rng.randrange(1440))
            changed = created + (min(start, now) - created) * rng.random() if cancelled else created
            as_team = agent.busy and start > now and minutes == 30 and rng.random() < 1 / 3
            contact = number // 2 if rng.random() < 0.9 else rng.randrange(number // 2 + 1)
            yield (
                agent.id,
                team_id if as_team else None,
                team_type if as_team else agent.types[minutes],
                contact,
                start,
                start + timedelta(minutes=minutes),
                ZONE.key,
                "en",
                "Invitee",
                f"No. {contact}",
                "Scale Ltd",
                f"invitee{contact}@scale.example.com",
                "",
                "cancelled" if cancelled else "confirmed",
                f"scale-{number:08d}",
                1 if cancelled else 0,
                "changed plans" if cancelled else None,
                changed if cancelled else None,
                "none",
                created,
                changed,
            )
            number += 1


def _load_bookings(engine: Engine, rows: Iterator[tuple[object, ...]], now: datetime) -> tuple[int, int]:
    """COPY the bookings (their contact ids given here), then the contacts they name; (contacts, bookings)."""
    with engine.connect() as connection:
        first_id = int(connection.execute(text("SELECT coalesce(max(id), 0) + 1 FROM contacts")).scalar_one())
    contacts = 0

    def with_contact_ids() -> Iterator[tuple[object, ...]]:
        nonlocal contacts
        for row in rows:
            index = int(row[3])  # type: ignore[call-overload]
            contacts = max(contacts, index + 1)
            yield (*row[:3], first_id + index, *row[4:])

    bookings = copy_rows(engine, "bookings", BOOKING_COLUMNS, with_contact_ids())
    contact_rows = (
        (first_id + k, f"invitee{k}@scale.example.com", "Invitee", f"No. {k}", "Scale Ltd", now, now)
        for k in range(contacts)
    )
    copy_rows(engine, "contacts", CONTACT_COLUMNS, contact_rows)
    with engine.begin() as connection:
        connection.execute(text("SELECT setval(pg_get_serial_sequence('contacts', 'id'), max(id)) FROM contacts"))
    return contacts, bookings


def generate(database_url: str, *, scale: int, seed: int = 1, now: datetime | None = None) -> ScaleData:
    """Migrate and fill the database for `scale` (1, 10 or 100); prints each part's time."""
    agents_count, background, event_count, future_jobs = SCALES[scale]
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    rng = random.Random(seed)
    seconds: dict[str, float] = {}
    print(f"generating {scale}× into {database_url.rsplit('/', 1)[-1]}", flush=True)
    upgrade_to_head(database_url)
    engine = build_engine(Settings(environment="development", database_url=database_url))
    try:
        agents: list[_Agent] = _timed(
            seconds, "agents (create_agent)", lambda: _make_agents(engine, agents_count, scale)
        )
        busy = [a for a in agents if a.busy]
        team, collective = _timed(seconds, "teams", lambda: _make_teams(engine, busy, now))
        rows = _booking_rows(rng, agents, background=background, now=now, team=team)
        with secondary_indexes_dropped(engine, ["bookings", "contacts", "events", "outbox_jobs"]):
            contacts, bookings = _timed(seconds, "bookings + contacts COPY", lambda: _load_bookings(engine, rows, now))
            made = Agents(ids=[a.id for a in agents], meeting_types={a.id: list(a.types.values()) for a in agents})
            event_rows = (
                (name, "{}", moment, agent, meeting_type, session_id, visitor_id)
                for name, moment, agent, meeting_type, session_id, visitor_id in events(event_count, made, seed)
            )
            _timed(seconds, "events COPY", lambda: copy_rows(engine, "events", EVENT_COLUMNS, event_rows))

            def fill_outbox() -> None:
                with engine.begin() as connection:
                    spread = 30 * 86400
                    parameters = {"status": "pending", "attempts": 0, "now": now, "spread_seconds": spread}
                    connection.execute(text(FILL), {**parameters, "rows": future_jobs})
                    parameters = {"status": "done", "attempts": 1, "now": now, "spread_seconds": -spread}
                    connection.execute(text(FILL), {**parameters, "rows": future_jobs // 5})

            _timed(seconds, "outbox jobs INSERT … SELECT", fill_outbox)
            started = time.perf_counter()
        seconds["indexes built"] = round(time.perf_counter() - started, 1)
        print(f"  indexes built: {seconds['indexes built']} s", flush=True)

        def rebuild_rollup() -> None:
            rollup_tables = ["funnel_sessions", "funnel_session_meeting_types"]
            with secondary_indexes_dropped(engine, rollup_tables), session_scope(build_sessionmaker(engine)) as session:
                session.execute(text("SET LOCAL work_mem = '512MB'"))
                # The rollup's rows come from the events just loaded, whose agents and types exist:
                # their foreign-key checks (one per row of both tables) are skipped like the COPY's.
                session.execute(text("SET LOCAL session_replication_role = replica"))
                rollup.rebuild(session)

        _timed(seconds, "funnel rollup rebuild (+ its indexes)", rebuild_rollup)
        # As the product runs it before the first funnel: every settled day into the per-day summary.
        _timed(
            seconds,
            "funnel summary refresh (every settled day)",
            lambda: summary.refresh_in_own_transaction(build_sessionmaker(engine), now=now),
        )

        def analyze() -> None:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))

        _timed(seconds, "VACUUM ANALYZE", analyze)
        with engine.connect() as connection:
            counts = {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("agents", "contacts", "bookings", "events", "funnel_sessions", "outbox_jobs")
            }
            busy_horizon = connection.execute(
                text(
                    "SELECT count(*) FROM bookings WHERE agent_id = :agent AND status = 'confirmed'"
                    " AND start_at > :now AND start_at < :now + interval '60 days'"
                ),
                {"agent": busy[0].id, "now": now},
            ).scalar_one()
            busy_link = connection.execute(
                text("SELECT link FROM agents WHERE id = :id"), {"id": busy[0].id}
            ).scalar_one()
            # Each agent's confirmed bookings by start: none may begin before the previous one ends.
            overlapping = connection.execute(
                text(
                    "SELECT count(*) FROM (SELECT start_at, lag(end_at) OVER (PARTITION BY agent_id ORDER BY start_at)"
                    " AS previous_end FROM bookings WHERE status = 'confirmed') AS b WHERE start_at < previous_end"
                )
            ).scalar_one()
        counts["overlapping confirmed bookings"] = int(overlapping)
        counts["contacts made"], counts["bookings made"] = contacts, bookings
        counts["busy agent's confirmed bookings in the horizon"] = int(busy_horizon)
        return ScaleData(
            scale=scale,
            now=now,
            busy_agent_id=busy[0].id,
            busy_link=busy_link,
            busy_meeting_type_id=busy[0].types[30],
            team_id=team[0],
            team_link=team[1],
            team_meeting_type_id=team[2],
            collective_team_id=collective[0],
            collective_link=collective[1],
            collective_meeting_type_id=collective[2],
            counts=counts,
            seconds=seconds,
        )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--scale", type=int, choices=sorted(SCALES), default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    data = generate(args.database_url, scale=args.scale, seed=args.seed)
    print(json.dumps(asdict(data), default=str, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

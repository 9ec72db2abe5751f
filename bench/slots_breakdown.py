"""Where the time of one `GET …/slots` goes, in CPU time per request, without any network.

    .venv/bin/python -m bench.slots_breakdown [--requests 1000]

Part 1 calls each ASGI app directly (no server, no client, one request at a time) and divides the
process CPU time by the number of requests: the real app's slots route, with its answer cache warm
(every request a hit: the dates cycle within the cache's lifetime) and switched off
(MEETINGS_AVAILABILITY_CACHE_SECONDS=0: every request computes), against the bare endpoints of
bench.http_app. Part 2 times the steps of the slots route one by one, on the same seeded database
(bench.http_app.seed_database) the HTTP benchmark uses.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.data import ZONE
from bench.http_app import bare_app, seed_database
from bench.http_slots import slots_paths


async def _request(app: Any, path: str) -> None:
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    if sent[0]["status"] != 200:
        raise RuntimeError(f"{path}: {sent}")


async def _cpu_per_request(app: Any, paths: list[str], requests: int) -> float:
    async with app.router.lifespan_context(app):
        for i in range(50):
            await _request(app, paths[i % len(paths)])
        started = time.process_time()
        for i in range(requests):
            await _request(app, paths[i % len(paths)])
        return (time.process_time() - started) / requests * 1e6


class _Stopwatch:
    """CPU time of this thread per named step, collected over many rounds."""

    def __init__(self) -> None:
        self.spent: dict[str, list[int]] = {}
        self._name = ""
        self._started = 0

    def __call__(self, name: str) -> _Stopwatch:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._started = time.thread_time_ns()

    def __exit__(self, *_: object) -> None:
        self.spent.setdefault(self._name, []).append(time.thread_time_ns() - self._started)


def _steps(database_url: str, link: str, meeting_type_id: int, days: list[date], rounds: int) -> dict[str, float]:
    """The steps of a miss as the slots route takes them for an agent's link (the answer read without
    ORM entities on a driver connection, shared.availability.answers.PublicAnswers._read)."""
    from shared.availability.busy import local_booked_times
    from shared.availability.cache import DriverReads, DriverVersionReader
    from shared.availability.engine import BusyTimeline, free_slots
    from shared.availability.service import read_agent
    from shared.db import build_engine
    from shared.settings import Settings
    from widget_api.routes.public import slots_json

    settings = Settings(environment="development", database_url=database_url)
    engine = build_engine(settings)
    loop_engine = build_engine(settings, pool_size=1, max_overflow=0)  # as the app's lifespan builds it
    reader = DriverVersionReader(loop_engine)
    now = datetime.now(UTC)
    step = _Stopwatch()
    for i in range(rounds):
        start = datetime.combine(days[i % len(days)], datetime.min.time(), tzinfo=ZONE).astimezone(UTC)
        end = start + timedelta(days=1)
        with step("cache validation: one query by link on the driver's cursor (DriverVersionReader)"):
            reader.version(link=link, meeting_type_id=meeting_type_id)
        with step("driver connection from the pool (no Session, no SQLAlchemy Connection)"):
            pooled = engine.raw_connection()
            reads = DriverReads(pooled.dbapi_connection, engine.dialect)
        with step("agent, rules (parsed once per stored version) and meeting type: one Core statement (read_agent)"):
            agent = read_agent(reads, link=link, meeting_type_id=meeting_type_id)
        assert agent is not None
        rules = agent.rules
        with step("busy bookings: one Core statement (local_booked_times) + timeline"):
            busy = BusyTimeline(
                local_booked_times(
                    reads,
                    agent_id=agent.agent_id,
                    buffer_before=agent.buffer_before_minutes,
                    buffer_after=agent.buffer_after_minutes,
                    start=start - rules.buffer_before,
                    end=end + agent.duration + rules.buffer_after,
                )
            )
        with step("engine free_slots"):
            slots = free_slots(rules, duration=agent.duration, busy=busy, now=now, range_start=start, range_end=end)
        with step("JSON (slots_json)"):
            slots_json("UTC", slots, UTC)
        with step("connection back to the pool (its rollback)"):
            pooled.close()
    reader.close()
    loop_engine.dispose()
    engine.dispose()
    warm = rounds // 10
    return {name: statistics.median(values[warm:]) / 1000 for name, values in step.spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # as under `--log-level warning` in the HTTP benchmark
    with tempfile.TemporaryDirectory(prefix="meetings-breakdown-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        now = datetime.now(UTC)
        link, demo_id = seed_database(database_url, now=now)
        os.environ.update(
            {"DATABASE_URL": database_url, "MEETINGS_ENV": "development", "MEETINGS_RATE_LIMIT_ENABLED": "false"}
        )
        from widget_api.app import app_factory

        def real_app(cache_seconds: str) -> Any:
            os.environ["MEETINGS_AVAILABILITY_CACHE_SECONDS"] = cache_seconds
            os.environ["MEETINGS_RATE_LIMIT_ENABLED"] = "false"
            return app_factory()

        def limited_app() -> Any:  # as bench.http_slots serves it: every read counted, none refused
            os.environ.update(
                {
                    "MEETINGS_AVAILABILITY_CACHE_SECONDS": "5",
                    "MEETINGS_RATE_LIMIT_ENABLED": "true",
                    "MEETINGS_RATE_LIMIT_READS_PER_MINUTE": "1000000000",
                }
            )
            return app_factory()

        paths = slots_paths(link, demo_id, now)
        print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print("\n| ASGI app, one request at a time | CPU µs per request |\n|---|---|")
        for name, app, targets, count in (
            ("real app, GET …/slots, rate limits off, answer cache warm (hits)", real_app("5"), paths, args.requests),
            ("real app, GET …/slots, rate limits off, answer cache off (misses)", real_app("0"), paths, args.requests),
            ("real app, GET …/slots, rate limits on, answer cache warm (hits)", limited_app(), paths, args.requests),
            ("bare FastAPI, sync def", bare_app(), ["/bare"], args.requests * 5),
            ("bare FastAPI, async def", bare_app(), ["/bare-async"], args.requests * 5),
        ):
            print(f"| {name} | {asyncio.run(_cpu_per_request(app, targets, count)):.1f} |", flush=True)
        days = [date.fromisoformat(p.split("date=")[1][:10]) for p in paths]
        print("\n| step of the slots route (median) | CPU µs |\n|---|---|")
        for name, micros in _steps(database_url, link, demo_id, days, args.requests).items():
            print(f"| {name} | {micros:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""No double booking with several API processes on one PostgreSQL (SPEC §12, §13).

Three separate uvicorn servers share the database and the requests are dealt round-robin across
them, so the contention really crosses process boundaries (the per-agent row lock in
shared/booking/service.py is what serialises them, not anything inside one process).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from itertools import cycle

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking
from shared.settings import Settings
from tests.booking.test_contention import ALL_DAY, _booking_body, _tomorrow_at
from tests.factories import committed_agent
from tests.live import running_api

SERVERS = 3


@contextmanager
def api_servers(database_url: str, count: int = SERVERS) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(running_api(database_url)) for _ in range(count)]


def fire_across(base_urls: list[str], link: str, bodies: list[dict[str, object]]) -> Counter[int]:
    """POST every booking at once, each to the next server in turn; the status codes counted."""
    limits = httpx.Limits(max_connections=200)
    with ExitStack() as stack:
        clients = [stack.enter_context(httpx.Client(base_url=u, timeout=60, limits=limits)) for u in base_urls]
        jobs = list(zip(cycle(clients), bodies, strict=False))

        def post(job: tuple[httpx.Client, dict[str, object]]) -> int:
            client, body = job
            return client.post(f"/api/v1/links/{link}/bookings", json=body).status_code

        with ThreadPoolExecutor(max_workers=64) as pool:
            return Counter(pool.map(post, jobs))


@pytest.mark.slow
def test_200_concurrent_bookings_of_one_slot_across_three_api_processes_make_one(
    pg_settings: Settings, pg_db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(pg_db, weekly=ALL_DAY, min_notice_minutes=0)
    start = _tomorrow_at(10)
    with api_servers(pg_settings.database_url) as base_urls:
        statuses = fire_across(base_urls, link, [_booking_body(types["Demo"], start, n) for n in range(200)])
    assert statuses == Counter({201: 1, 409: 199})
    with session_scope(pg_db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1


@pytest.mark.slow
def test_overlapping_bookings_of_different_lengths_across_processes_never_both_exist(
    pg_settings: Settings, pg_db: sessionmaker[Session]
) -> None:
    # A 45-minute Onboarding at 10:00 and a 30-minute Demo at 10:30 overlap without sharing a start.
    _, link, types = committed_agent(pg_db, weekly=ALL_DAY, min_notice_minutes=0)
    onboarding = [_booking_body(types["Onboarding"], _tomorrow_at(10), n) for n in range(100)]
    demo = [_booking_body(types["Demo"], _tomorrow_at(10, 30), n) for n in range(100, 200)]
    interleaved = [body for pair in zip(onboarding, demo, strict=True) for body in pair]
    with api_servers(pg_settings.database_url) as base_urls:
        statuses = fire_across(base_urls, link, interleaved)
    assert statuses == Counter({201: 1, 409: 199})
    with session_scope(pg_db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1

"""No double booking under contention, against a real server process with real threads."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking
from tests.factories import committed_agent
from tests.live import running_api

ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _booking_body(meeting_type_id: int, start: datetime, n: int) -> dict[str, object]:
    return {
        "meeting_type_id": meeting_type_id,
        "start": start.isoformat(),
        "timezone": "Europe/Warsaw",
        "first_name": f"Visitor{n}",
        "last_name": "Racer",
        "company_name": "Contention Ltd",
        "email": f"racer{n}@example.com",
        "description": "",
    }


def _tomorrow_at(hour: int, minute: int = 0) -> datetime:
    warsaw = ZoneInfo("Europe/Warsaw")
    day = (datetime.now(UTC) + timedelta(days=2)).astimezone(warsaw).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=warsaw)


def _fire(base_url: str, link: str, bodies: list[dict[str, object]]) -> Counter[int]:
    with httpx.Client(base_url=base_url, timeout=60, limits=httpx.Limits(max_connections=200)) as http:

        def post(body: dict[str, object]) -> int:
            return http.post(f"/api/v1/links/{link}/bookings", json=body).status_code

        with ThreadPoolExecutor(max_workers=64) as pool:
            return Counter(pool.map(post, bodies))


@pytest.mark.slow
def test_200_concurrent_requests_for_one_slot_make_one_booking(database_url: str, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db, weekly=ALL_DAY, min_notice_minutes=0)
    start = _tomorrow_at(10)
    with running_api(database_url) as base_url:
        statuses = _fire(base_url, link, [_booking_body(types["Demo"], start, n) for n in range(200)])
    assert statuses == Counter({201: 1, 409: 199})
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1


@pytest.mark.slow
def test_overlapping_bookings_of_different_lengths_never_both_exist(
    database_url: str, db: sessionmaker[Session]
) -> None:
    # A 45-minute Onboarding at 10:00 and a 30-minute Demo at 10:30 overlap without sharing a start.
    _, link, types = committed_agent(db, weekly=ALL_DAY, min_notice_minutes=0)
    onboarding = [_booking_body(types["Onboarding"], _tomorrow_at(10), n) for n in range(100)]
    demo = [_booking_body(types["Demo"], _tomorrow_at(10, 30), n) for n in range(100, 200)]
    interleaved = [body for pair in zip(onboarding, demo, strict=True) for body in pair]
    with running_api(database_url) as base_url:
        statuses = _fire(base_url, link, interleaved)
    assert statuses == Counter({201: 1, 409: 199})
    with session_scope(db) as session:
        bookings = session.scalars(select(Booking)).all()
        assert len(bookings) == 1


@pytest.mark.slow
def test_contention_with_fewer_threads_than_waiting_requests_still_answers_every_request(
    database_url: str, db: sessionmaker[Session]
) -> None:
    # With 6 threads and 60 requests, the threads fill with requests waiting for the agent's lock
    # (SQLite's write lock, PostgreSQL's row lock). The holder must release it without needing
    # another thread: when the commit was left to the session dependency, the winner waited for a
    # thread to validate its response while still holding the lock, and the waiters got 503 after
    # SQLite's 30 s busy_timeout (on PostgreSQL nothing would move at all).
    _, link, types = committed_agent(db, weekly=ALL_DAY, min_notice_minutes=0)
    start = _tomorrow_at(10)
    with running_api(database_url, factory="tests.booking.small_threadpool:app_factory") as base_url:
        statuses = _fire(base_url, link, [_booking_body(types["Demo"], start, n) for n in range(60)])
    assert statuses == Counter({201: 1, 409: 59})

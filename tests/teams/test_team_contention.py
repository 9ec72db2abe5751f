"""No member is ever double-booked through a team link under contention: real server processes,
real threads, both databases."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import STATUS_CONFIRMED, Booking
from shared.teams.service import create_team, create_team_meeting_type
from tests.factories import committed_agent
from tests.live import running_api

ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _start() -> datetime:
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def _body(meeting_type_id: int, start: datetime, n: int) -> dict[str, object]:
    return {
        "meeting_type_id": meeting_type_id,
        "start": start.isoformat(),
        "timezone": "UTC",
        "first_name": f"Visitor{n}",
        "last_name": "Racer",
        "company_name": "Contention Ltd",
        "email": f"racer{n}@example.com",
        "description": "",
    }


def _fire(base_url: str, requests: list[tuple[str, dict[str, object]]]) -> list[tuple[int, dict[str, object]]]:
    with httpx.Client(base_url=base_url, timeout=120, limits=httpx.Limits(max_connections=100)) as http:

        def post(request: tuple[str, dict[str, object]]) -> tuple[int, dict[str, object]]:
            link, body = request
            response = http.post(f"/api/v1/links/{link}/bookings", json=body)
            return response.status_code, response.json()

        with ThreadPoolExecutor(max_workers=50) as pool:
            return list(pool.map(post, requests))


def _team(db: sessionmaker[Session], members: int) -> tuple[list[tuple[int, str, dict[str, int]]], str, int]:
    agents = [committed_agent(db, weekly=ALL_DAY, min_notice_minutes=0, timezone="UTC") for _ in range(members)]
    with session_scope(db) as session:
        team = create_team(session, name="Sales", mode="round_robin", member_ids=[a[0] for a in agents])
        meeting_type = create_team_meeting_type(session, team_id=team.id, name="Demo", duration_minutes=30)
        link, type_id = team.link, meeting_type.id
    return agents, link, type_id


@pytest.mark.slow
def test_50_concurrent_team_bookings_with_k_free_members_give_exactly_k(
    database_url: str, db: sessionmaker[Session]
) -> None:
    agents, link, type_id = _team(db, 5)
    start = _start()
    with running_api(database_url, workers=2) as base_url:
        # Two of the five are already taken at that start by their own links: k = 3 are free.
        for n, (_, agent_link, types) in enumerate(agents[:2]):
            direct = _fire(base_url, [(agent_link, _body(types["Demo"], start, 1000 + n))])
            assert direct[0][0] == 201
        answers = _fire(base_url, [(link, _body(type_id, start, n)) for n in range(50)])
    statuses = Counter(status for status, _ in answers)
    assert statuses == Counter({201: 3, 409: 47}), statuses
    assigned = [str(body["agent"]["name"]) for status, body in answers if status == 201]  # type: ignore[index]
    assert len(set(assigned)) == 3
    with session_scope(db) as session:
        confirmed = session.scalars(select(Booking).where(Booking.status == STATUS_CONFIRMED)).all()
        per_agent = Counter(b.agent_id for b in confirmed)
    assert per_agent == Counter({a[0]: 1 for a in agents})  # every member exactly once, no one twice


@pytest.mark.slow
def test_concurrent_team_and_direct_bookings_of_one_member_never_both(
    database_url: str, db: sessionmaker[Session]
) -> None:
    agents, link, type_id = _team(db, 1)
    _, agent_link, types = agents[0]
    start = _start()
    requests = [
        request
        for n in range(25)
        for request in ((link, _body(type_id, start, n)), (agent_link, _body(types["Onboarding"], start, 100 + n)))
    ]
    with running_api(database_url, workers=2) as base_url:
        answers = _fire(base_url, requests)
    statuses = Counter(status for status, _ in answers)
    assert statuses == Counter({201: 1, 409: 49}), statuses
    with session_scope(db) as session:
        confirmed = session.scalars(select(Booking).where(Booking.status == STATUS_CONFIRMED)).all()
    assert len(confirmed) == 1

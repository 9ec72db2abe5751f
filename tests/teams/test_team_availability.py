"""Team availability (SPEC §15): round robin = union, collective = intersection of the members' free
starts, each member under their own rules and bookings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from shared.availability.rules import Slot
from shared.db import session_scope
from shared.models import Booking, BookingHost
from shared.teams.availability import combine
from tests.teams.helpers import agents, make_team

BASE = datetime(2026, 6, 2, 9, tzinfo=UTC)
MINUTE_SETS = st.lists(st.frozensets(st.integers(min_value=0, max_value=60 * 8 - 1)), min_size=1, max_size=5)


def _slots(minutes: frozenset[int]) -> list[Slot]:
    return [Slot(BASE + timedelta(minutes=m), BASE + timedelta(minutes=m + 30)) for m in sorted(minutes)]


@settings(max_examples=200, deadline=None)
@given(MINUTE_SETS)
def test_round_robin_is_the_union_and_collective_the_intersection(members: list[frozenset[int]]) -> None:
    # The oracle: plain set algebra on minute offsets, nothing of the engine's code.
    union = set().union(*members)
    intersection = set(members[0]).intersection(*members[1:])
    as_minutes = lambda slots: [int((s.start - BASE).total_seconds() // 60) for s in slots]  # noqa: E731
    assert as_minutes(combine("round_robin", [_slots(m) for m in members])) == sorted(union)
    assert as_minutes(combine("collective", [_slots(m) for m in members])) == sorted(intersection)


def _slot_starts(client: TestClient, link: str, type_id: int, date: str) -> list[str]:
    response = client.get(f"/api/v1/links/{link}/slots", params={"meeting_type_id": type_id, "date": date, "tz": "UTC"})
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"]]


def _book_directly(db: sessionmaker[Session], agent_link: str, client: TestClient, type_name: str, start: str) -> None:
    types = client.get(f"/api/v1/links/{agent_link}").json()["meeting_types"]
    type_id = next(t["id"] for t in types if t["name"] == type_name)
    body = {
        "meeting_type_id": type_id,
        "start": start,
        "timezone": "UTC",
        "first_name": "A",
        "last_name": "B",
        "email": "a@example.com",
    }
    assert client.post(f"/api/v1/links/{agent_link}/bookings", json=body).status_code == 201


def test_one_busy_member_blocks_collective_but_not_round_robin(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    robin, robin_type = make_team(client, admin_headers, [ada, bob], name="Robin")
    together, together_type = make_team(client, admin_headers, [ada, bob], mode="collective", name="Both")
    links = {a["id"]: a["link"] for a in client.get("/api/v1/admin/agents", headers=admin_headers).json()}
    date = "2026-06-10"
    start = f"{date}T10:00:00Z"
    assert start in _slot_starts(client, robin["link"], robin_type, date)
    assert start in _slot_starts(client, together["link"], together_type, date)
    _book_directly(db, links[bob], client, "Demo", start)
    assert start in _slot_starts(client, robin["link"], robin_type, date)  # Ada is still free
    assert start not in _slot_starts(client, together["link"], together_type, date)
    assert f"{date}T10:30:00Z" in _slot_starts(client, together["link"], together_type, date)
    days = client.get(
        f"/api/v1/links/{together['link']}/days",
        params={"meeting_type_id": together_type, "month": "2026-06", "tz": "UTC"},
    )
    assert date in days.json()["days"]


def test_a_collective_host_is_busy_in_every_per_agent_read(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    links = {a["id"]: a["link"] for a in client.get("/api/v1/admin/agents", headers=admin_headers).json()}
    date = "2026-06-10"
    start = f"{date}T10:00:00Z"
    _book_directly(db, links[ada], client, "Demo", start)
    with session_scope(db) as session:
        booking = session.query(Booking).one()
        session.add(BookingHost(booking_id=booking.id, agent_id=bob))
    bob_types = client.get(f"/api/v1/links/{links[bob]}").json()["meeting_types"]
    demo = next(t["id"] for t in bob_types if t["name"] == "Demo")
    assert start not in _slot_starts(client, links[bob], demo, date)
    listed = client.get("/api/v1/admin/bookings", params={"agent_id": bob}, headers=admin_headers).json()
    assert listed["total"] == 1

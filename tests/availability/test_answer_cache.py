"""The per-process cache of slots/days answers (shared.availability.cache): never serves what it must not."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from shared.availability.cache import AnswerCache
from shared.db import session_scope
from shared.models import Agent, Booking, Contact, MeetingType
from tests.conftest import ADMIN_TOKEN, Clock
from tests.factories import committed_agent

DAY = "2026-06-02"
FIRST = "2026-06-02T09:00:00+02:00"


def _slots(client: TestClient, link: str, meeting_type_id: int, **params: object) -> list[str]:
    response = client.get(
        f"/api/v1/links/{link}/slots",
        params={"meeting_type_id": meeting_type_id, "date": DAY, "tz": "Europe/Warsaw", **params},
    )
    assert response.status_code == 200, response.text
    return [s["start"] for s in response.json()["slots"]]


def _booking_body(meeting_type_id: int, start: str) -> dict[str, object]:
    return {
        "meeting_type_id": meeting_type_id,
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "AE",
        "email": "ada@example.com",
        "description": "",
    }


def _core_booking(db: sessionmaker[Session], *, agent_id: int, meeting_type_id: int, bump_version: bool) -> None:
    """A booking written past every Session hook of this process, as another process would."""
    with session_scope(db) as session:
        contact = Contact(email="x@example.com", first_name="X", last_name="Y", company="Z")
        session.add(contact)
        session.flush()
        contact_id = contact.id
    engine = db.kw["bind"]
    start = datetime(2026, 6, 2, 7, 0, tzinfo=UTC)  # 09:00 Warsaw
    with engine.begin() as connection:
        connection.execute(
            insert(Booking).values(
                agent_id=agent_id,
                meeting_type_id=meeting_type_id,
                contact_id=contact_id,
                start_at=start,
                end_at=start + timedelta(minutes=30),
                invitee_timezone="Europe/Warsaw",
                first_name="X",
                last_name="Y",
                company_name="Z",
                email="x@example.com",
                description="",
                manage_token=secrets.token_urlsafe(24),
                status="confirmed",
                created_at=start,
            )
        )
        if bump_version:
            connection.execute(
                update(Agent).where(Agent.id == agent_id).values(booking_lock_version=Agent.booking_lock_version + 1)
            )


def test_a_booked_slot_disappears_at_once(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    before = _slots(client, link, types["Demo"])
    assert before[0] == FIRST
    assert _slots(client, link, types["Demo"]) == before  # served from the cache
    created = client.post(f"/api/v1/links/{link}/bookings", json=_booking_body(types["Demo"], FIRST))
    assert created.status_code == 201, created.text
    assert _slots(client, link, types["Demo"]) == before[1:]
    # Another meeting type and the days answer of the same agent see it too.
    assert FIRST not in _slots(client, link, types["Onboarding"])


def test_a_booking_by_another_process_is_seen_through_the_lock_version(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    agent_id, link, types = committed_agent(db)
    before = _slots(client, link, types["Demo"])
    _core_booking(db, agent_id=agent_id, meeting_type_id=types["Demo"], bump_version=True)
    assert _slots(client, link, types["Demo"]) == before[1:]


def test_an_unversioned_write_elsewhere_is_stale_for_at_most_the_ttl(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    agent_id, link, types = committed_agent(db)
    ticks = [0.0]
    app = client.app
    app.state.answer_cache = AnswerCache(monotonic=lambda: ticks[0])  # type: ignore[attr-defined]
    before = _slots(client, link, types["Demo"])
    _core_booking(db, agent_id=agent_id, meeting_type_id=types["Demo"], bump_version=False)
    ticks[0] += 4.9
    assert _slots(client, link, types["Demo"]) == before  # the documented staleness (booking re-validates)
    ticks[0] += 0.2
    assert _slots(client, link, types["Demo"]) == before[1:]


def test_the_answer_follows_the_clock(client: TestClient, db: sessionmaker[Session], clock: Clock) -> None:
    _, link, types = committed_agent(db)
    assert _slots(client, link, types["Demo"])[0] == FIRST
    clock.now = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)  # 10:00 Warsaw; 4 h minimum notice
    assert _slots(client, link, types["Demo"])[0] == "2026-06-02T14:00:00+02:00"
    clock.now = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # back: never an answer computed for a later now
    assert _slots(client, link, types["Demo"])[0] == FIRST


def test_bad_input_is_refused_before_any_cached_answer(client: TestClient, db: sessionmaker[Session]) -> None:
    agent_id, link, types = committed_agent(db)
    _slots(client, link, types["Demo"])
    client.get(f"/api/v1/links/{link}/days", params={"meeting_type_id": types["Demo"], "month": "2026-06", "tz": "UTC"})
    base = {"meeting_type_id": types["Demo"], "date": DAY, "tz": "Europe/Warsaw"}
    assert client.get(f"/api/v1/links/{link}/slots", params={**base, "tz": "Mars/Base"}).status_code == 422
    assert client.get(f"/api/v1/links/{link}/slots", params={**base, "date": "2026-13-01"}).status_code == 422
    assert client.get(f"/api/v1/links/{link}x/slots", params=base).status_code == 404
    # Deactivated behind the cache's back (no Session hook of this app): still a 404 at once.
    engine = db.kw["bind"]
    with engine.begin() as connection:
        connection.execute(update(MeetingType).where(MeetingType.id == types["Demo"]).values(active=False))
    missing = client.get(f"/api/v1/links/{link}/slots", params=base)
    assert missing.status_code == 404
    days = client.get(
        f"/api/v1/links/{link}/days", params={"meeting_type_id": types["Demo"], "month": "2026-06", "tz": "UTC"}
    )
    assert days.status_code == 404
    with engine.begin() as connection:
        connection.execute(update(Agent).where(Agent.id == agent_id).values(active=False))
    other = client.get(f"/api/v1/links/{link}/slots", params={**base, "meeting_type_id": types["Onboarding"]})
    assert other.status_code == 404


def test_an_availability_edit_through_the_admin_api_shows_at_once(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    agent_id, link, types = committed_agent(db)
    assert _slots(client, link, types["Demo"])[0] == FIRST
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = {"timezone": "Europe/Warsaw", "weekly": {"tue": [["13:00", "14:00"]]}}
    changed = client.put(f"/api/v1/admin/agents/{agent_id}/availability", headers=headers, json=body)
    assert changed.status_code == 200, changed.text
    assert _slots(client, link, types["Demo"]) == ["2026-06-02T13:00:00+02:00", "2026-06-02T13:30:00+02:00"]

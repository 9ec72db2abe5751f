"""Every bad-input rule of SPEC §6: a clear 4xx with its reason, and nothing changed in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.service import rotate_link
from shared.db import session_scope
from shared.models import Base, MeetingType
from tests.factories import committed_agent

# 2026-06-01 is a Monday; DEFAULT_NOW is 06:00 UTC (08:00 in Warsaw), notice 4 h.
GOOD_START = "2026-06-02T09:00:00+02:00"


def snapshot(db: sessionmaker[Session]) -> dict[str, int]:
    with session_scope(db) as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def agent(db: sessionmaker[Session]) -> tuple[int, str, dict[str, int]]:
    return committed_agent(db)


def form(type_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meeting_type_id": type_id,
        "start": GOOD_START,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Engines",
        "email": "ada@example.com",
        "description": "Hello",
    }
    body.update(overrides)
    return body


def assert_refused(
    client: TestClient,
    db: sessionmaker[Session],
    send: Callable[[], Any],
    status: int | tuple[int, ...],
    reason: str,
) -> None:
    before = snapshot(db)
    response = send()
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert reason.lower() in response.text.lower()
    assert snapshot(db) == before


def test_unknown_link_is_404_everywhere(client: TestClient, db: sessionmaker[Session], agent: Any) -> None:
    _, _, types = agent
    demo = types["Demo"]
    for send in (
        lambda: client.get("/api/v1/links/nope"),
        lambda: client.get(
            "/api/v1/links/nope/days", params={"meeting_type_id": demo, "month": "2026-06", "tz": "UTC"}
        ),
        lambda: client.get(
            "/api/v1/links/nope/slots", params={"meeting_type_id": demo, "date": "2026-06-02", "tz": "UTC"}
        ),
        lambda: client.post("/api/v1/links/nope/bookings", json=form(demo)),
        lambda: client.post(
            "/api/v1/events",
            json={"visitor_id": "v", "session_id": "s", "link": "nope", "name": "calendar_1st_step"},
        ),
    ):
        assert_refused(client, db, send, 404, "booking link not found")


def test_rotated_link_stops_working(client: TestClient, db: sessionmaker[Session], agent: Any) -> None:
    agent_id, old_link, types = agent
    with session_scope(db) as session:
        new_link = rotate_link(session, agent_id=agent_id).link
    assert client.get(f"/api/v1/links/{new_link}").status_code == 200
    assert_refused(client, db, lambda: client.get(f"/api/v1/links/{old_link}"), 404, "not found")
    assert_refused(
        client,
        db,
        lambda: client.post(f"/api/v1/links/{old_link}/bookings", json=form(types["Demo"])),
        404,
        "not found",
    )


def test_inactive_deleted_and_foreign_meeting_types_are_404(
    client: TestClient, db: sessionmaker[Session], agent: Any
) -> None:
    _, link, types = agent
    _, _, other_types = committed_agent(db)
    with session_scope(db) as session:
        session.get_one(MeetingType, types["Onboarding"]).active = False
    for type_id in (types["Onboarding"], other_types["Demo"], 999999):
        assert_refused(
            client,
            db,
            lambda t=type_id: client.post(f"/api/v1/links/{link}/bookings", json=form(t)),
            404,
            "meeting type not found",
        )
        assert_refused(
            client,
            db,
            lambda t=type_id: client.get(
                f"/api/v1/links/{link}/slots", params={"meeting_type_id": t, "date": "2026-06-02", "tz": "UTC"}
            ),
            404,
            "meeting type not found",
        )
    listed = client.get(f"/api/v1/links/{link}").json()["meeting_types"]
    assert types["Onboarding"] not in [m["id"] for m in listed]


@pytest.mark.parametrize(
    ("start", "status", "reason"),
    [
        ("2026-05-29T10:00:00+02:00", 422, "in the past"),
        ("2026-06-01T10:00:00+02:00", 422, "notice"),  # 2 h from now, notice is 4 h
        ("2026-09-01T10:00:00+02:00", 422, "horizon"),  # beyond 60 days
        ("2026-06-02T09:10:00+02:00", 422, "grid"),  # off the 30-minute grid
        ("2026-06-02T18:00:00+02:00", 422, "outside the agent's hours"),
        ("2026-06-06T10:00:00+02:00", 422, "outside the agent's hours"),  # Saturday
        ("2026-06-02T16:45:00+02:00", 422, "not an offered slot"),  # would end after 17:00
    ],
)
def test_start_that_is_not_an_offered_slot(
    client: TestClient, db: sessionmaker[Session], agent: Any, start: str, status: int, reason: str
) -> None:
    _, link, types = agent
    assert_refused(
        client,
        db,
        lambda: client.post(f"/api/v1/links/{link}/bookings", json=form(types["Demo"], start=start)),
        status,
        reason,
    )


def test_busy_slot_is_409_slot_no_longer_available(client: TestClient, db: sessionmaker[Session], agent: Any) -> None:
    _, link, types = agent
    assert client.post(f"/api/v1/links/{link}/bookings", json=form(types["Demo"])).status_code == 201
    # An Onboarding (45 min) at 08:30 would run into the 09:00 Demo.
    assert_refused(
        client,
        db,
        lambda: client.post(
            f"/api/v1/links/{link}/bookings",
            json=form(types["Onboarding"], start="2026-06-02T08:30:00+02:00", email="b@example.com"),
        ),
        (409, 422),
        "",
    )
    assert_refused(
        client,
        db,
        lambda: client.post(
            f"/api/v1/links/{link}/bookings", json=form(types["Assistance"], start="2026-06-02T09:00:00+02:00")
        ),
        409,
        "slot no longer available",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"company_name": "x" * 101}, "company_name"),
        ({"description": "x" * 2001}, "description"),
        ({"start": "2026-06-02T09:00:00"}, "start"),  # no offset
        ({"start": "tomorrow"}, "start"),
        ({"meeting_type_id": "demo"}, "meeting_type_id"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_booking_fields_are_422(
    client: TestClient, db: sessionmaker[Session], agent: Any, overrides: dict[str, Any], field: str
) -> None:
    _, link, types = agent
    assert_refused(
        client,
        db,
        lambda: client.post(f"/api/v1/links/{link}/bookings", json=form(types["Demo"], **overrides)),
        422,
        field,
    )


def test_limits_are_inclusive(client: TestClient, db: sessionmaker[Session], agent: Any) -> None:
    _, link, types = agent
    body = form(
        types["Demo"], first_name="x" * 100, last_name="y" * 100, company_name="z" * 100, description="d" * 2000
    )
    assert client.post(f"/api/v1/links/{link}/bookings", json=body).status_code == 201


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("days", {"month": "2026-13", "tz": "UTC"}, "month"),
        ("days", {"month": "June", "tz": "UTC"}, "month"),
        ("days", {"month": "2026-06", "tz": "Nowhere/City"}, "unknown time zone"),
        ("days", {"tz": "UTC"}, "month"),
        ("slots", {"date": "2026-02-30", "tz": "UTC"}, "date"),
        ("slots", {"date": "02/06/2026", "tz": "UTC"}, "date"),
        ("slots", {"date": "2026-06-02", "tz": "Europe/Nowhere"}, "unknown time zone"),
        ("slots", {"date": "2026-06-02"}, "tz"),
    ],
)
def test_invalid_days_and_slots_queries_are_422(
    client: TestClient, db: sessionmaker[Session], agent: Any, path: str, params: dict[str, str], reason: str
) -> None:
    _, link, types = agent
    assert_refused(
        client,
        db,
        lambda: client.get(f"/api/v1/links/{link}/{path}", params={"meeting_type_id": types["Demo"], **params}),
        422,
        reason,
    )


@pytest.mark.parametrize(
    ("overrides", "status", "reason"),
    [
        ({"name": "calendar_4th_step_submit"}, 422, "unknown event name"),
        ({"name": "booking_confirmed"}, 422, "unknown event name"),
        ({"name": "hacked"}, 422, "unknown event name"),
        ({"date": "2026-99-01"}, 422, "date"),
        ({"visitor_id": ""}, 422, "visitor_id"),
        ({"session_id": "x" * 101}, 422, "session_id"),
        ({"start": "2026-06-02T09:00:00"}, 422, "start"),
    ],
)
def test_invalid_events_are_refused(
    client: TestClient, db: sessionmaker[Session], agent: Any, overrides: dict[str, Any], status: int, reason: str
) -> None:
    _, link, _ = agent
    body = {"visitor_id": "v-1", "session_id": "s-1", "link": link, "name": "calendar_1st_step", **overrides}
    assert_refused(client, db, lambda: client.post("/api/v1/events", json=body), status, reason)


def test_errors_are_json_with_detail(client: TestClient) -> None:
    response = client.get("/api/v1/links/unknown")
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "booking link not found"}

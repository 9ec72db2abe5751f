"""Admin API: agents, booking links, calendar disconnect."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Agent, CalendarConnection
from tests.conftest import Snapshot
from tests.factories import committed_agent

AGENTS = "/api/v1/admin/agents"


def test_create_agent_answers_201_with_link_and_predefined_types(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(
        AGENTS,
        json={"name": "Ada <Sales>", "email": "ada@example.com", "timezone": "Europe/Warsaw"},
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    agent = response.json()
    assert set(agent) == {
        "id",
        "name",
        "email",
        "timezone",
        "link",
        "booking_url",
        "role",
        "active",
        "locale",
        "calendar",
    }
    assert agent["locale"] == "en"
    assert agent["name"] == "Ada <Sales>"  # stored as given
    assert agent["booking_url"] == f"http://testserver/b/{agent['link']}"
    assert len(agent["link"]) >= 22  # ≥128 bits, URL-safe base64
    assert (agent["role"], agent["active"], agent["calendar"]) == ("agent", True, None)

    public = client.get(f"/api/v1/links/{agent['link']}").json()
    assert public["agent"] == {"name": "Ada <Sales>", "timezone": "Europe/Warsaw"}
    types = client.get(f"{AGENTS}/{agent['id']}/meeting-types", headers=admin_headers).json()
    assert [(t["name"], t["duration_minutes"]) for t in types] == [("Demo", 30), ("Onboarding", 45), ("Assistance", 15)]


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"name": "Bob", "email": "ADA@example.com", "timezone": "UTC"}, 409, "agent with this email already exists"),
        ({"name": "Bob", "email": "bob@example.com", "timezone": "Mars/Olympus"}, 422, "unknown time zone 'Mars/"),
        ({"name": "Bob", "email": "not-an-email", "timezone": "UTC"}, 422, "email"),
        ({"name": "", "email": "bob@example.com", "timezone": "UTC"}, 422, "name"),
        # Refused by the agents service, as the dashboard refuses it (not by the HTTP schema).
        ({"name": "   ", "email": "bob@example.com", "timezone": "UTC"}, 422, "name is required"),
        ({"email": "bob@example.com", "timezone": "UTC"}, 422, "name"),
        ({"name": "Bob", "email": "bob@example.com", "timezone": "UTC", "role": "root"}, 422, "role"),
        ({"name": "Bob", "email": "bob@example.com", "timezone": "UTC", "admin": True}, 422, "admin"),
    ],
)
def test_create_agent_refuses_bad_input_and_changes_nothing(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    body: dict[str, object],
    status: int,
    reason: str,
) -> None:
    committed_agent(db, email="ada@example.com")
    before = snapshot()
    response = client.post(AGENTS, json=body, headers=admin_headers)
    assert response.status_code == status, response.text
    assert reason in str(response.json()["detail"])
    assert snapshot() == before


def test_list_agents_shows_calendar_status(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    first, _, _ = committed_agent(db, name="First")
    second, _, _ = committed_agent(db, name="Second")
    with session_scope(db) as session:
        session.add(
            CalendarConnection(
                agent_id=second,
                provider="google",
                account_email="second@gmail.com",
                encrypted_tokens="x",
                status="needs_reconnect",
                last_error="invalid_grant: Token has been expired or revoked.",
            )
        )
    agents = client.get(AGENTS, headers=admin_headers).json()
    assert [a["id"] for a in agents] == [first, second]
    assert agents[0]["calendar"] is None
    assert agents[1]["calendar"] == {
        "provider": "google",
        "status": "needs_reconnect",
        "account_email": "second@gmail.com",
        "last_error": "invalid_grant: Token has been expired or revoked.",
    }


def test_rotate_link_retires_the_old_link(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, old_link, _ = committed_agent(db)
    response = client.post(f"{AGENTS}/{agent_id}/link/rotate", headers=admin_headers)
    assert response.status_code == 200, response.text
    new_link = response.json()["link"]
    assert new_link != old_link
    assert response.json()["booking_url"].endswith(f"/b/{new_link}")
    assert client.get(f"/api/v1/links/{old_link}").status_code == 404
    assert client.get(f"/api/v1/links/{new_link}").status_code == 200


def test_unknown_agent_answers_404_everywhere(
    client: TestClient, admin_headers: dict[str, str], snapshot: Callable[[], Snapshot]
) -> None:
    before = snapshot()
    for method, path, body in [
        ("POST", f"{AGENTS}/999/link/rotate", None),
        ("DELETE", f"{AGENTS}/999/calendar", None),
        ("PUT", f"{AGENTS}/999/availability", {"timezone": "UTC", "weekly": {}}),
        ("GET", f"{AGENTS}/999/meeting-types", None),
        ("POST", f"{AGENTS}/999/meeting-types", {"name": "X", "duration_minutes": 30}),
        ("GET", "/api/v1/admin/bookings?agent_id=999", None),
        ("GET", "/api/v1/admin/funnel?agent_id=999", None),
    ]:
        response = client.request(method, path, json=body, headers=admin_headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"detail": "agent not found"}
    assert snapshot() == before


def test_disconnect_calendar_without_connection_is_404(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], snapshot: Callable[[], Snapshot]
) -> None:
    agent_id, _, _ = committed_agent(db)
    before = snapshot()
    response = client.delete(f"{AGENTS}/{agent_id}/calendar", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "no calendar connected"}
    assert snapshot() == before


def test_disconnect_calendar_deletes_tokens_and_marks_disconnected(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    with session_scope(db) as session:
        session.add(
            CalendarConnection(
                agent_id=agent_id,
                account_email="a@gmail.com",
                encrypted_tokens="gAAAA-secret",
                status="connected",
                scopes=["https://www.googleapis.com/auth/calendar.events"],
            )
        )
    response = client.delete(f"{AGENTS}/{agent_id}/calendar", headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json()["calendar"] == {
        "provider": "google",
        "status": "disconnected",
        "account_email": "a@gmail.com",
        "last_error": None,
    }
    with session_scope(db) as session:
        connection = session.scalar(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id))
        assert connection is not None
        assert connection.encrypted_tokens is None
        assert connection.status == "disconnected"
        assert session.get(Agent, agent_id) is not None
    listed = client.get(AGENTS, headers=admin_headers).json()
    assert listed[0]["calendar"]["status"] == "disconnected"

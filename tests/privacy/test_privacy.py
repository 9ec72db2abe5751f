"""Contact export and erasure over the admin API, the retention sweep, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Engine, String, Text, cast, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.agents.service import update_meeting_type
from shared.datamove.copy import copied_tables
from shared.db import session_scope
from shared.models import Booking, ContactErasure, Event
from shared.notifications.webhooks import create_endpoint
from shared.outbox.worker import run_worker
from shared.privacy.retention import run_retention_once
from shared.settings import Settings
from shared.steps.names import STEP_EVENTS
from tests.conftest import Clock
from tests.factories import committed_agent

CONTACTS = "/api/v1/admin/contacts"
PHONE = "+43 664 7654321"  # the number she gives in the form: Grace calls her (SPEC §14)
PERSONAL = [
    "ada.erase@example.com",
    "Adelheid",
    "Zwicklbauer",
    "Engines of Zwick",
    "visitor-ada-77",
    "+43 660 1234567",
    PHONE,
]


def _step(client: TestClient, link: str, name: str, **context: Any) -> None:
    body = {"visitor_id": "visitor-ada-77", "session_id": "s-ada", "link": link, "name": name, **context}
    assert client.post("/api/v1/events", json=body).status_code == 202


@pytest.fixture
def ada(client: TestClient, db: sessionmaker[Session], settings: Settings, clock: Clock) -> dict[str, Any]:
    """Adelheid walks the widget, books Grace (description with her phone) and the worker sends the emails."""
    with session_scope(db) as session:
        create_endpoint(session, url="http://127.0.0.1:9/hook", allow_private=True)
    grace_id, link, types = committed_agent(db, name="Grace", email="grace@example.com")
    other_id, other_link, other_types = committed_agent(db, name="Otto", email="otto@example.com")
    with session_scope(db) as session:  # Grace calls the invitee: the form asks for her phone
        update_meeting_type(session, meeting_type_id=types["Demo"], changes={"location": {"kind": "phone"}})
    _step(client, link, "calendar_1st_step", meeting_type_id=types["Demo"])
    _step(client, link, "calendar_2nd_step", meeting_type_id=types["Demo"], date="2026-06-02")
    _step(client, link, "calendar_3rd_step", meeting_type_id=types["Demo"], start="2026-06-02T09:00:00+02:00")
    response = client.post(
        f"/api/v1/links/{link}/bookings",
        json={
            "meeting_type_id": types["Demo"],
            "start": "2026-06-02T09:00:00+02:00",
            "timezone": "Europe/Vienna",
            "first_name": "Adelheid",
            "last_name": "Zwicklbauer",
            "company_name": "Engines of Zwick",
            "email": "ada.erase@example.com",
            "description": "Call me on +43 660 1234567 please",
            "phone": PHONE,
            "visitor_id": "visitor-ada-77",
            "session_id": "s-ada",
        },
    )
    assert response.status_code == 201, response.text
    run_worker(settings, handlers=job_handlers(), once=True)
    contact_id = client.get(CONTACTS, params={"email": "ada.erase@example.com"}, headers=_admin(settings)).json()[0][
        "id"
    ]
    return {"contact_id": contact_id, "grace": grace_id, "otto": other_id, "link": link, "other_link": other_link}


def _admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.admin_token}"}


def _token(client: TestClient, settings: Settings, agent_id: int) -> dict[str, str]:
    response = client.post(f"/api/v1/admin/agents/{agent_id}/api-token", headers=_admin(settings))
    assert response.status_code in (200, 201), response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _where_found(engine: Engine, needles: list[str]) -> list[str]:
    """Every (table.column) of any text or JSON column holding one of the needles, ignoring case."""
    hits: list[str] = []
    with engine.connect() as connection:
        for table in copied_tables():
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON):
                    continue
                as_text = func.lower(cast(column, Text)) if isinstance(column.type, JSON) else func.lower(column)
                found = connection.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(or_(*(as_text.contains(n.lower(), autoescape=True) for n in needles)))
                )
                if found:
                    hits.append(f"{table.name}.{column.name}")
    return hits


def test_export_holds_everything_stored_about_the_contact(
    client: TestClient, settings: Settings, ada: dict[str, Any]
) -> None:
    response = client.get(f"{CONTACTS}/{ada['contact_id']}/export", headers=_admin(settings))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["contact"]["email"] == "ada.erase@example.com"
    assert data["contact"]["last_name"] == "Zwicklbauer"
    assert data["visitor_ids"] == ["visitor-ada-77"]
    names = [e["name"] for e in data["events"]]
    assert names[:4] == ["calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step", "calendar_4th_step_submit"]
    submit = next(e for e in data["events"] if e["name"] == "calendar_4th_step_submit")
    assert submit["attributes"]["email"] == "ada.erase@example.com"
    (booking,) = data["bookings"]
    assert booking["description"] == "Call me on +43 660 1234567 please"
    assert booking["phone"] == PHONE
    assert booking["start"].startswith("2026-06-02T07:00:00")
    assert data["emails"]
    assert all(m["to"] == "ada.erase@example.com" for m in data["emails"])
    assert any("Adelheid" in m["body"] for m in data["emails"])
    assert {d["type"] for d in data["webhook_deliveries"]} >= {"booking.created", "calendar_1st_step"}
    assert any(d["attempts"] for d in data["webhook_deliveries"])


def _funnel(client: TestClient, settings: Settings) -> Any:
    return client.get("/api/v1/admin/funnel", headers=_admin(settings)).json()


def test_erasure_leaves_no_trace_and_the_counts(
    client: TestClient, settings: Settings, engine: Engine, db: sessionmaker[Session], clock: Clock, ada: dict[str, Any]
) -> None:
    assert _where_found(engine, PERSONAL)  # the scan does find the data before
    funnel = _funnel(client, settings)
    with session_scope(db) as session:
        bookings = session.scalar(select(func.count()).select_from(Booking))
        events = session.scalar(select(func.count()).where(Event.name.in_(STEP_EVENTS)))

    response = client.delete(f"{CONTACTS}/{ada['contact_id']}", headers=_admin(settings))
    assert response.status_code == 204, response.text

    assert _where_found(engine, PERSONAL) == []
    assert _funnel(client, settings) == funnel
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == bookings
        assert session.scalar(select(func.count()).where(Event.name.in_(STEP_EVENTS))) == events
        booking = session.scalars(select(Booking)).one()
        assert booking.status == "cancelled"
        record = session.scalars(select(ContactErasure)).one()
        assert record.erased_by == "admin token"
        assert record.bookings_cancelled == 1
    # The cancellation goes out (agent email, webhook) without the erased data.
    run_worker(settings, handlers=job_handlers(), once=True)
    assert _where_found(engine, PERSONAL) == []
    # Gone from search and export; a second erasure finds nothing.
    assert client.get(CONTACTS, params={"q": "Zwick"}, headers=_admin(settings)).json() == []
    assert client.get(f"{CONTACTS}/{ada['contact_id']}/export", headers=_admin(settings)).status_code == 404
    assert client.delete(f"{CONTACTS}/{ada['contact_id']}", headers=_admin(settings)).status_code == 404


def test_agent_tokens_erase_only_their_own_contacts(
    client: TestClient, settings: Settings, ada: dict[str, Any]
) -> None:
    otto = _token(client, settings, ada["otto"])
    grace = _token(client, settings, ada["grace"])
    assert client.get(f"{CONTACTS}/{ada['contact_id']}/export", headers=otto).status_code == 404
    assert client.delete(f"{CONTACTS}/{ada['contact_id']}", headers=otto).status_code == 404
    assert client.get(f"{CONTACTS}/{ada['contact_id']}/export", headers=grace).status_code == 200
    assert client.delete(f"{CONTACTS}/{ada['contact_id']}", headers=grace).status_code == 204
    assert client.delete(f"{CONTACTS}/{ada['contact_id']}", headers={"Authorization": "Bearer nope"}).status_code == 403


def test_retention_erases_contacts_idle_for_the_period_once_a_day(
    db: sessionmaker[Session], engine: Engine, clock: Clock, ada: dict[str, Any]
) -> None:
    with session_scope(db) as session:
        assert run_retention_once(session, now=clock.now + timedelta(days=30), days=90) == 0
    later = clock.now + timedelta(days=400)
    with session_scope(db) as session:
        assert run_retention_once(session, now=later, days=90) == 1
    with session_scope(db) as session:
        assert run_retention_once(session, now=later + timedelta(hours=1), days=90) is None
        record = session.scalars(select(ContactErasure)).one()
        assert record.reason == "retention"
    assert _where_found(engine, PERSONAL) == []

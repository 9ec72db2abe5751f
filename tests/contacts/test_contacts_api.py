"""Contacts: search, and the profile with booked times and the event timeline (anonymous steps included)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.contacts.queries import contact_profile, search_contacts
from shared.db import session_scope
from shared.errors import InvalidInput, NotFound
from tests.conftest import Clock
from tests.factories import committed_agent

CONTACTS = "/api/v1/admin/contacts"


def _step(client: TestClient, link: str, name: str, **context: Any) -> None:
    body = {"visitor_id": "v-ada", "session_id": "s-ada", "link": link, "name": name, **context}
    response = client.post("/api/v1/events", json=body)
    assert response.status_code == 202, response.text


def _book(client: TestClient, link: str, meeting_type_id: int, start: str, **fields: Any) -> dict[str, Any]:
    body = {
        "meeting_type_id": meeting_type_id,
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "email": "Ada@Example.com",
        "description": "<script>alert(1)</script>",
        **fields,
    }
    response = client.post(f"/api/v1/links/{link}/bookings", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
def people(client: TestClient, db: sessionmaker[Session], clock: Clock) -> dict[str, Any]:
    """Ada walks the widget anonymously then books; Bob books and cancels; a third visitor only looks."""
    agent_id, link, types = committed_agent(db, name="Grace")
    _step(client, link, "calendar_1st_step", meeting_type_id=types["Demo"])
    clock.advance(timedelta(seconds=20))
    _step(client, link, "calendar_2nd_step", meeting_type_id=types["Demo"], date="2026-06-02")
    clock.advance(timedelta(seconds=30))
    _step(client, link, "calendar_3rd_step", meeting_type_id=types["Demo"], start="2026-06-02T09:00:00+02:00")
    clock.advance(timedelta(seconds=60))
    ada = _book(client, link, types["Demo"], "2026-06-02T09:00:00+02:00", visitor_id="v-ada", session_id="s-ada")

    clock.advance(timedelta(minutes=5))
    bob = _book(
        client,
        link,
        types["Onboarding"],
        "2026-06-03T09:00:00+02:00",
        first_name="Bob",
        last_name="Builder",
        company_name="Builder & Co 100%",
        email="bob@example.com",
        description="",
        visitor_id="v-bob",
    )
    clock.advance(timedelta(minutes=1))
    token = bob["manage_url"].rsplit("/", 1)[-1]
    assert client.post(f"/api/v1/bookings/{token}/cancel").status_code == 200

    lurker = {"visitor_id": "v-lurker", "session_id": "s-lurker", "link": link, "name": "calendar_1st_step"}
    assert client.post("/api/v1/events", json=lurker).status_code == 202
    return {"agent_id": agent_id, "types": types, "ada": ada, "bob": bob}


def _search(client: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = client.get(CONTACTS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def test_profile_shows_anonymous_steps_booking_and_booked_time(
    client: TestClient, admin_headers: dict[str, str], people: dict[str, Any]
) -> None:
    [ada] = _search(client, admin_headers, email="ada@example.com")
    assert (ada["email"], ada["first_name"], ada["last_name"], ada["company"]) == (
        "Ada@example.com",
        "Ada",
        "Lovelace",
        "Analytical Engines",  # the widget API lower-cases the domain
    )
    assert ada["visitor_ids"] == ["v-ada"]
    timeline = ada["timeline"]
    assert [e["name"] for e in timeline] == [
        "booking_confirmed",
        "calendar_4th_step_submit",
        "calendar_3rd_step",
        "calendar_2nd_step",
        "calendar_1st_step",
    ]
    assert [e["occurred_at"] for e in timeline] == [
        "2026-06-01T06:01:50Z",
        "2026-06-01T06:01:50Z",
        "2026-06-01T06:00:50Z",
        "2026-06-01T06:00:20Z",
        "2026-06-01T06:00:00Z",
    ]
    assert all(e["session_id"] == "s-ada" and e["visitor_id"] == "v-ada" for e in timeline)
    assert all(e["agent"] == {"id": people["agent_id"], "name": "Grace"} for e in timeline)
    assert all(e["meeting_type_name"] == "Demo" for e in timeline)
    second, third = timeline[3], timeline[2]
    assert second["chosen_date"] == "2026-06-02"
    assert third["chosen_start"] == "2026-06-02T07:00:00Z"
    assert timeline[0]["attributes"] == {"booking_id": people["ada"]["id"]}
    assert timeline[1]["attributes"] == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "email": "Ada@example.com",
        "description": "<script>alert(1)</script>",
    }
    assert timeline[4]["attributes"] == {}
    assert ada["bookings"] == [
        {
            "booking_id": people["ada"]["id"],
            "start": "2026-06-02T07:00:00Z",
            "end": "2026-06-02T07:30:00Z",
            "status": "confirmed",
            "invitee_timezone": "Europe/Warsaw",
            "meeting_type": {"id": people["types"]["Demo"], "name": "Demo", "duration_minutes": 30},
            "agent": {"id": people["agent_id"], "name": "Grace"},
            "cancelled_at": None,
            "phone": None,
            "location_kind": "none",
        }
    ]


def test_cancelled_booking_shows_on_the_profile(
    client: TestClient, admin_headers: dict[str, str], people: dict[str, Any]
) -> None:
    [bob] = _search(client, admin_headers, email="bob@example.com")
    assert [e["name"] for e in bob["timeline"]] == [
        "booking_cancelled",
        "booking_confirmed",
        "calendar_4th_step_submit",
    ]
    assert [(b["status"], b["cancelled_at"]) for b in bob["bookings"]] == [("cancelled", "2026-06-01T06:07:50Z")]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"email": " ADA@example.COM "}, ["Ada"]),
        ({"email": "ada@"}, []),
        ({"q": "lovelace"}, ["Ada"]),
        ({"q": "ada love"}, ["Ada"]),
        ({"q": "BUILDER &"}, ["Bob"]),
        ({"q": "100%"}, ["Bob"]),
        ({"q": "%"}, ["Bob"]),  # a literal percent sign, not a wildcard
        ({"q": "_"}, []),
        ({"q": "example.com"}, ["Bob", "Ada"]),  # most recently updated first
        ({"q": "example.com", "email": "bob@example.com"}, ["Bob"]),
        ({}, ["Bob", "Ada"]),  # anonymous visitors are not listed
    ],
)
def test_search(
    client: TestClient,
    admin_headers: dict[str, str],
    people: dict[str, Any],
    params: dict[str, str],
    expected: list[str],
) -> None:
    assert [c["first_name"] for c in _search(client, admin_headers, **params)] == expected


def test_search_limits(client: TestClient, admin_headers: dict[str, str], people: dict[str, Any]) -> None:
    assert [c["first_name"] for c in _search(client, admin_headers, limit="1")] == ["Bob"]
    for bad in ("0", "101", "many"):
        response = client.get(CONTACTS, params={"limit": bad}, headers=admin_headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_service_lists_anonymous_visitors_on_request(db: sessionmaker[Session], people: dict[str, Any]) -> None:
    with session_scope(db) as session:
        everyone = search_contacts(session, include_anonymous=True)
        assert len(everyone) == 3
        [lurker] = [c for c in everyone if c.email is None]
        profile = contact_profile(session, contact_id=lurker.id)
        assert profile.visitor_ids == ["v-lurker"]
        assert [e.name for e in profile.timeline] == ["calendar_1st_step"]
        assert profile.bookings == []


def test_service_refuses_unknown_contact_and_bad_limits(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        with pytest.raises(NotFound, match="contact not found"):
            contact_profile(session, contact_id=12345)
        with pytest.raises(InvalidInput, match="limit must be from 1 to 500, got 0"):
            search_contacts(session, limit=0)

"""Meeting locations (SPEC §14): set through the admin API, checked, shown to the widget by kind only,
copied onto bookings; the invitee's phone on POST …/bookings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, CalendarConnection
from shared.models.calendar import STATUS_NEEDS_RECONNECT
from tests.conftest import Snapshot
from tests.factories import committed_agent

ADMIN = "/api/v1/admin"
START = "2026-06-02T09:00:00+02:00"


def _create(client: TestClient, agent_id: int, headers: dict[str, str], **fields: Any) -> Any:
    body = {"name": "Call", "duration_minutes": 30, **fields}
    return client.post(f"{ADMIN}/agents/{agent_id}/meeting-types", json=body, headers=headers)


def _form(meeting_type_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "meeting_type_id": meeting_type_id,
        "start": START,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "",
        "email": "ada@example.com",
        "description": "",
        **overrides,
    }


def _connect_google(db: sessionmaker[Session], agent_id: int, *, status: str = "connected") -> None:
    with session_scope(db) as session:
        session.add(CalendarConnection(agent_id=agent_id, account_email="a@example.com", status=status))


@pytest.mark.parametrize(
    ("location", "stored"),
    [
        (
            {"kind": "link", "value": "https://zoom.us/j/123456789"},
            {"kind": "link", "value": "https://zoom.us/j/123456789"},
        ),
        ({"kind": "in_person", "value": "Main St 1 <Warsaw>"}, {"kind": "in_person", "value": "Main St 1 <Warsaw>"}),
        ({"kind": "phone", "value": "+48 (22) 123-45-67"}, {"kind": "phone", "value": "+48 (22) 123-45-67"}),
        ({"kind": "phone", "value": None}, {"kind": "phone", "value": None}),
        ({"kind": "phone"}, {"kind": "phone", "value": None}),
        ({"kind": "none"}, {"kind": "none", "value": None}),
    ],
)
def test_each_kind_is_stored_and_the_widget_sees_only_the_kind(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    location: dict[str, Any],
    stored: dict[str, Any],
) -> None:
    agent_id, link, _ = committed_agent(db)
    response = _create(client, agent_id, admin_headers, location=location)
    assert response.status_code == 201, response.text
    assert response.json()["location"] == stored
    listed = client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=admin_headers).json()
    assert listed[-1]["location"] == stored
    public = client.get(f"/api/v1/links/{link}").json()["meeting_types"]
    # No value before booking: only whether the form asks for a phone, and a link's host name.
    asks_phone = stored == {"kind": "phone", "value": None}
    host = urlsplit(stored["value"]).hostname if stored["kind"] == "link" else None
    assert public[-1]["location"] == {"kind": stored["kind"], "asks_phone": asks_phone, "host": host}
    assert public[-1]["phone_required"] is asks_phone
    assert stored["value"] is None or stored["kind"] == "link" or stored["value"] not in json.dumps(public)


def test_existing_and_predefined_types_have_no_location(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link, _ = committed_agent(db)
    listed = client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=admin_headers).json()
    assert {t["name"]: t["location"] for t in listed} == {
        "Demo": {"kind": "none", "value": None},
        "Onboarding": {"kind": "none", "value": None},
        "Assistance": {"kind": "none", "value": None},
    }
    nothing = {"kind": "none", "asks_phone": False, "host": None}
    assert all(t["location"] == nothing for t in client.get(f"/api/v1/links/{link}").json()["meeting_types"])


BAD_LOCATIONS = [
    ({"kind": "zoom", "value": "https://zoom.us/j/1"}, "location.kind must be one of"),
    ({"kind": "link", "value": "http://zoom.us/j/1"}, "https://"),
    ({"kind": "link", "value": "zoom.us/j/1"}, "https://"),
    ({"kind": "link", "value": "https://"}, "https://"),
    ({"kind": "link", "value": "https://zoom.us/" + "a" * 1990}, "at most 2000"),
    ({"kind": "link"}, "needs its https URL"),
    ({"kind": "in_person", "value": "x" * 501}, "at most 500"),
    ({"kind": "in_person", "value": "  "}, "needs the address"),
    ({"kind": "phone", "value": "call me maybe"}, "not a phone number"),
    ({"kind": "phone", "value": "12"}, "not a phone number"),
    ({"kind": "phone", "value": "1" * 33}, "at most 32"),
    ({"kind": "none", "value": "somewhere"}, "must be null for none"),
    ({"kind": "google_meet"}, "needs a connected Google Calendar"),
    ({"kind": "in_person", "value": "Main St\x00 1"}, "without control characters"),
    ({"kind": "in_person", "value": "Main St\n1"}, "without control characters"),
]


@pytest.mark.parametrize(("location", "reason"), BAD_LOCATIONS)
def test_bad_locations_are_refused_with_the_reason_and_nothing_is_saved(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    location: dict[str, Any],
    reason: str,
) -> None:
    agent_id, _, types = committed_agent(db)
    before = snapshot()
    created = _create(client, agent_id, admin_headers, location=location)
    assert created.status_code == 422, created.text
    assert reason in str(created.json()["detail"])
    patched = client.patch(
        f"{ADMIN}/meeting-types/{types['Demo']}", json={"name": "Renamed", "location": location}, headers=admin_headers
    )
    assert patched.status_code == 422, patched.text
    assert reason in str(patched.json()["detail"])
    assert snapshot() == before


def test_google_meet_needs_a_connected_google_calendar(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link, types = committed_agent(db)
    other_id, _, _ = committed_agent(db)
    _connect_google(db, other_id, status=STATUS_NEEDS_RECONNECT)
    assert _create(client, other_id, admin_headers, location={"kind": "google_meet"}).status_code == 422
    _connect_google(db, agent_id)
    response = client.patch(
        f"{ADMIN}/meeting-types/{types['Demo']}", json={"location": {"kind": "google_meet"}}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["location"] == {"kind": "google_meet", "value": None}
    demo = next(t for t in client.get(f"/api/v1/links/{link}").json()["meeting_types"] if t["id"] == types["Demo"])
    assert demo["location"] == {"kind": "google_meet", "asks_phone": False, "host": None}
    # null is refused like any other bad value; the stored location stays.
    refused = client.patch(f"{ADMIN}/meeting-types/{types['Demo']}", json={"location": None}, headers=admin_headers)
    assert refused.status_code == 422


def _set_location(client: TestClient, headers: dict[str, str], type_id: int, location: dict[str, Any]) -> None:
    response = client.patch(f"{ADMIN}/meeting-types/{type_id}", json={"location": location}, headers=headers)
    assert response.status_code == 200, response.text


def test_bookings_carry_the_location_and_keep_it_when_the_type_changes(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link, types = committed_agent(db)
    _set_location(client, admin_headers, types["Demo"], {"kind": "link", "value": "https://zoom.us/j/42?pwd=x"})
    created = client.post(f"/api/v1/links/{link}/bookings", json=_form(types["Demo"]))
    assert created.status_code == 201, created.text
    expected = {"kind": "link", "value": "https://zoom.us/j/42?pwd=x", "join_url": "https://zoom.us/j/42?pwd=x"}
    assert created.json()["location"] == expected
    token = created.json()["manage_url"].rsplit("/", 1)[-1]
    _set_location(client, admin_headers, types["Demo"], {"kind": "in_person", "value": "Office"})
    assert client.get(f"/api/v1/bookings/{token}").json()["location"] == expected
    ics = client.get(f"/api/v1/bookings/{token}/ics").text
    assert "LOCATION:https://zoom.us/j/42?pwd=x" in ics
    second = client.post(f"/api/v1/links/{link}/bookings", json=_form(types["Demo"], start="2026-06-02T10:00:00+02:00"))
    assert second.json()["location"] == {"kind": "in_person", "value": "Office", "join_url": None}


def test_a_phone_type_without_a_number_asks_for_the_invitees_phone(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], snapshot: Callable[[], Snapshot]
) -> None:
    agent_id, link, types = committed_agent(db)
    _set_location(client, admin_headers, types["Demo"], {"kind": "phone", "value": None})
    url = f"/api/v1/links/{link}/bookings"
    before = snapshot()
    for phone, reason in [
        (None, "phone is required"),
        ("", "phone is required"),
        ("not a number", "not a phone number"),
        ("12-34", "not a phone number"),
        ("+" + "1" * 32, "at most 32"),
    ]:
        body = _form(types["Demo"]) if phone is None else _form(types["Demo"], phone=phone)
        response = client.post(url, json=body)
        assert response.status_code == 422, (phone, response.text)
        assert reason in str(response.json()["detail"])
    assert snapshot() == before

    response = client.post(url, json=_form(types["Demo"], phone=" +48 (22) 123-45-67 "))
    assert response.status_code == 201, response.text
    assert response.json()["location"] == {"kind": "phone", "value": None, "join_url": None}
    token = response.json()["manage_url"].rsplit("/", 1)[-1]
    assert client.get(f"/api/v1/bookings/{token}").json()["phone"] == "+48 (22) 123-45-67"
    with session_scope(db) as session:
        booking = session.get(Booking, response.json()["id"])
        assert booking is not None
        assert booking.phone == "+48 (22) 123-45-67"
    admin = client.get(f"{ADMIN}/bookings", params={"agent_id": agent_id}, headers=admin_headers).json()
    assert [b["phone"] for b in admin["items"]] == ["+48 (22) 123-45-67"]
    contacts = client.get(f"{ADMIN}/contacts", params={"email": "ada@example.com"}, headers=admin_headers).json()
    assert contacts[0]["bookings"][0]["phone"] == "+48 (22) 123-45-67"


def test_other_types_take_no_phone_unless_given_well_formed(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    _, link, types = committed_agent(db)
    url = f"/api/v1/links/{link}/bookings"
    assert client.post(url, json=_form(types["Demo"], phone="nope")).status_code == 422
    response = client.post(url, json=_form(types["Demo"]))
    assert response.status_code == 201
    assert response.json()["location"] == {"kind": "none", "value": None, "join_url": None}

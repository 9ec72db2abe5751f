"""The JSON manage API (GET/cancel/reschedule/ics by manage token) of SPEC §6."""

from __future__ import annotations

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, Event
from tests.factories import committed_agent
from tests.notifications.conftest import book, manage_token

TUESDAY_0900 = "2026-06-02T09:00:00+02:00"


def _slots(client: TestClient, link: str, meeting_type_id: int, day: str) -> list[str]:
    response = client.get(
        f"/api/v1/links/{link}/slots", params={"meeting_type_id": meeting_type_id, "date": day, "tz": "Europe/Warsaw"}
    )
    return [slot["start"] for slot in response.json()["slots"]]


def _timeline(db: sessionmaker[Session]) -> list[str]:
    with session_scope(db) as session:
        return [e.name for e in session.scalars(select(Event).order_by(Event.id))]


def test_get_booking_in_the_invitees_zone(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db, name="Grace", timezone="America/New_York")
    created = book(client, link, types["Demo"], "2026-06-02T15:00:00+02:00", timezone="Asia/Tokyo")
    token = manage_token(created)
    body = client.get(f"/api/v1/bookings/{token}").json()
    assert body["status"] == "confirmed"
    assert body["start"] == "2026-06-02T22:00:00+09:00"
    assert body["timezone"] == "Asia/Tokyo"
    assert body["agent"] == {"name": "Grace", "timezone": "America/New_York"}
    assert body["manage_url"] == created["manage_url"] == f"http://testserver/manage/{token}"
    assert client.get("/api/v1/bookings/not-a-token").status_code == 404
    assert len(token) >= 43  # 256 bits, URL-safe


def test_cancel_records_the_reason_once_and_blocks_rescheduling(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))
    assert TUESDAY_0900 not in _slots(client, link, types["Demo"], "2026-06-02")

    cancelled = client.post(f"/api/v1/bookings/{token}/cancel", json={"reason": "Double <booked>"})
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "Double <booked>")
    assert client.post(f"/api/v1/bookings/{token}/cancel").json()["status"] == "cancelled"  # idempotent
    assert TUESDAY_0900 in _slots(client, link, types["Demo"], "2026-06-02")  # the slot is free again

    refused = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-02T11:00:00+02:00"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == "this booking is cancelled"
    assert _timeline(db).count("booking_cancelled") == 1
    assert client.post("/api/v1/bookings/nope/cancel").status_code == 404


def test_reschedule_moves_the_booking_and_frees_the_old_slot(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))
    other = manage_token(book(client, link, types["Demo"], "2026-06-02T10:00:00+02:00", email="bob@example.com"))

    taken = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-02T10:00:00+02:00"})
    assert taken.status_code == 409
    off_grid = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-02T11:10:00+02:00"})
    assert off_grid.status_code == 422
    past = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-05-29T11:00:00+02:00"})
    assert past.status_code == 422

    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-03T14:30:00+02:00"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == "2026-06-03T14:30:00+02:00"
    assert moved.json()["end"] == "2026-06-03T15:00:00+02:00"
    assert TUESDAY_0900 in _slots(client, link, types["Demo"], "2026-06-02")
    assert "2026-06-03T14:30:00+02:00" not in _slots(client, link, types["Demo"], "2026-06-03")
    assert _timeline(db).count("booking_rescheduled") == 1
    with session_scope(db) as session:
        booking = session.scalar(select(Booking).where(Booking.manage_token == token))
        assert booking is not None
        assert booking.sequence == 1
    assert client.get(f"/api/v1/bookings/{other}").json()["status"] == "confirmed"


def test_reschedule_into_an_overlap_with_its_own_old_time(client: TestClient, db: sessionmaker[Session]) -> None:
    """Moving a 45-minute call by 30 minutes overlaps only the old time, which the move frees."""
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Onboarding"], TUESDAY_0900))
    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-02T09:30:00+02:00"})
    assert moved.status_code == 200, moved.text


def test_ics_download_follows_the_booking(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))
    response = client.get(f"/api/v1/bookings/{token}/ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["method"]) == "REQUEST"
    assert event.decoded("dtstart").isoformat() == "2026-06-02T07:00:00+00:00"
    uid = str(event["uid"])

    client.post(f"/api/v1/bookings/{token}/cancel")
    calendar = Calendar.from_ical(client.get(f"/api/v1/bookings/{token}/ics").content)
    (event,) = calendar.walk("VEVENT")
    assert (str(calendar["method"]), str(event["status"]), int(event["sequence"])) == ("CANCEL", "CANCELLED", 1)
    assert str(event["uid"]) == uid
    assert client.get("/api/v1/bookings/nope/ics").status_code == 404

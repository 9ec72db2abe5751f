"""Bookings written to Google Calendar by the outbox: insert, reschedule (patch), cancel (delete)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.calendars.google.events import event_id_for
from shared.calendars.google.handlers import delete_booking_event
from shared.db import session_scope
from shared.models import Booking
from shared.models.outbox import JOB_DONE
from shared.outbox.contract import JobContext
from shared.settings import Settings
from tests.conftest import Clock
from tests.google.conftest import ConnectedAgent, book, calendar_jobs, drain, manage_token
from tests.google.standin import GoogleStandIn


def _booking(db: sessionmaker[Session], booking_id: int) -> Booking:
    with session_scope(db) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking


def test_a_booking_is_inserted_with_the_invitee_as_attendee_and_a_deterministic_id(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    created = book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    drain(google_settings, worker_clock, db)

    booking = _booking(db, created["id"])
    event_id = event_id_for(booking)
    assert re.fullmatch(r"[0-9a-v]{32}", event_id)  # base32hex, as Google requires
    assert event_id_for(booking) == event_id  # the same on every attempt
    assert booking.provider_event_id == event_id
    events = standin.live_events()
    assert list(events) == [event_id]
    event = events[event_id]
    assert event["attendees"] == [{"email": "ada@example.com", "displayName": "Ada Lovelace"}]
    assert event["summary"] == "Demo: Ada Lovelace (Analytical <Engines>)"
    assert event["start"] == {"dateTime": "2026-06-02T07:00:00Z", "timeZone": "Europe/Warsaw"}
    assert event["end"] == {"dateTime": "2026-06-02T07:30:00Z", "timeZone": "Europe/Warsaw"}
    # Google renders descriptions as HTML: what the invitee typed is escaped.
    assert "Company: Analytical &lt;Engines&gt;" in event["description"]
    assert "Pricing &lt;b&gt;question&lt;/b&gt;<br>and a second line" in event["description"]
    assert "<b>question</b>" not in event["description"]
    assert [job.status for job in calendar_jobs(db)] == [JOB_DONE]


def test_cancel_deletes_the_event_and_a_second_delete_410_counts_as_done(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    created = book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    drain(google_settings, worker_clock, db)
    (event_id,) = standin.live_events()

    cancelled = google_client.post(f"/api/v1/bookings/{manage_token(created)}/cancel", json={"reason": "ill"})
    assert cancelled.status_code == 200
    drain(google_settings, worker_clock, db)

    assert standin.live_events() == {}
    assert list(standin.deleted_events()) == [event_id]
    delete_job = calendar_jobs(db)[-1]
    assert (delete_job.kind, delete_job.status) == ("calendar.google.delete", JOB_DONE)

    # The job runs again (a worker died before recording it): Google answers 410, which is success.
    delete_booking_event(JobContext(settings=google_settings, sessionmaker=db, clock=worker_clock), delete_job)
    assert len(standin.calls_to("events.delete")) == 2
    assert standin.live_events() == {}


def test_reschedule_patches_the_same_event(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    created = book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    drain(google_settings, worker_clock, db)

    moved = google_client.post(
        f"/api/v1/bookings/{manage_token(created)}/reschedule", json={"start": "2026-06-03T15:00:00+02:00"}
    )
    assert moved.status_code == 200, moved.text
    drain(google_settings, worker_clock, db)

    (event,) = standin.live_events().values()
    assert event["id"] == _booking(db, created["id"]).provider_event_id
    assert event["start"]["dateTime"] == "2026-06-03T13:00:00Z"
    assert event["end"]["dateTime"] == "2026-06-03T13:30:00Z"
    assert len(standin.calls_to("events.insert")) == 1
    assert len(standin.calls_to("events.patch")) == 1


def test_changes_made_before_the_first_insert_ran_still_end_in_the_right_state(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    moved = book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    gone = book(google_client, connected_agent, "2026-06-02T11:00:00+02:00")
    assert (
        google_client.post(
            f"/api/v1/bookings/{manage_token(moved)}/reschedule", json={"start": "2026-06-04T10:00:00+02:00"}
        ).status_code
        == 200
    )
    assert google_client.post(f"/api/v1/bookings/{manage_token(gone)}/cancel").status_code == 200

    drain(google_settings, worker_clock, db)

    # The cancelled booking never reaches the calendar; the moved one is there once, at its new time.
    (event,) = standin.live_events().values()
    assert event["id"] == event_id_for(_booking(db, moved["id"]))
    assert event["start"]["dateTime"] == "2026-06-04T08:00:00Z"
    assert all(job.status == JOB_DONE for job in calendar_jobs(db))


def test_agents_without_a_connection_get_no_calendar_jobs(google_client: TestClient, db: sessionmaker[Session]) -> None:
    from tests.factories import committed_agent

    _, link, types = committed_agent(db)
    response = google_client.post(
        f"/api/v1/links/{link}/bookings",
        json={
            "meeting_type_id": types["Demo"],
            "start": "2026-06-02T09:00:00+02:00",
            "timezone": "Europe/Warsaw",
            "first_name": "A",
            "last_name": "B",
            "company_name": "C",
            "email": "a@example.com",
            "description": "",
        },
    )
    assert response.status_code == 201
    assert calendar_jobs(db) == []
    with session_scope(db) as session:
        assert session.scalar(select(Booking.provider_event_id)) is None

"""What a collective team booking sets in motion (SPEC §15): every member gets the Google event (real
Google client against the stand-in) and the agent's email; a cancel removes every event."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.calendars.google.events import event_id_for
from shared.db import session_scope
from shared.models import Agent, Booking, EmailMessage
from shared.settings import Settings
from tests.conftest import Clock
from tests.google.conftest import connect, drain, google_client, google_settings, standin, worker_clock  # noqa: F401
from tests.google.standin import GoogleStandIn
from tests.teams.helpers import agents, make_team


def test_collective_booking_writes_every_members_event_and_email_and_cancel_removes_them(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    worker_clock: Clock,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
) -> None:
    ada, bob, cy = agents(db, 3)
    connect(google_client, ada, admin_headers)
    connect(google_client, bob, admin_headers)  # cy has no calendar: local bookings only
    team, type_id = make_team(google_client, admin_headers, [ada, bob, cy], mode="collective")
    form = {
        "meeting_type_id": type_id,
        "start": "2026-06-10T10:00:00Z",
        "timezone": "UTC",
        "first_name": "Iva",
        "last_name": "Invitee",
        "email": "iva@example.com",
    }
    created = google_client.post(f"/api/v1/links/{team['link']}/bookings", json=form)
    assert created.status_code == 201, created.text
    drain(google_settings, worker_clock, db)

    with session_scope(db) as session:
        booking = session.get_one(Booking, created.json()["id"])
        own, host_bob = booking.provider_event_id, next(h for h in booking.hosts if h.agent_id == bob)
        assert own == event_id_for(booking)
        assert host_bob.provider_event_id == event_id_for(booking, host_agent_id=bob)
        bob_event = host_bob.provider_event_id
        emails = {a.id: a.email for a in session.scalars(select(Agent))}
        sent_to = [m.to_address for m in session.scalars(select(EmailMessage))]
        invitee_text = session.scalars(
            select(EmailMessage.text_body).where(EmailMessage.to_address == "iva@example.com")
        ).one()
        member_names = [session.get_one(Agent, member).name for member in (ada, bob, cy)]
    # The stand-in serves one Google account, so both members' events land in its one calendar.
    assert set(standin.live_events()) == {own, bob_event}
    assert all(standin.live_events()[e]["attendees"][0]["email"] == "iva@example.com" for e in (own, bob_event))
    assert sorted(sent_to) == sorted([emails[ada], emails[bob], emails[cy], "iva@example.com"])
    assert ", ".join(member_names) in invitee_text  # the confirmation names everyone the invitee meets

    token = created.json()["manage_url"].rsplit("/", 1)[-1]
    assert google_client.post(f"/api/v1/bookings/{token}/cancel").status_code == 200
    drain(google_settings, worker_clock, db)
    assert standin.live_events() == {}
    for member in (ada, bob, cy):
        listed = google_client.get("/api/v1/admin/bookings", params={"agent_id": member}, headers=admin_headers)
        assert [b["status"] for b in listed.json()["items"]] == ["cancelled"]


def test_a_round_robin_booking_moved_on_reschedule_leaves_the_former_members_calendar(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    worker_clock: Clock,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
) -> None:
    ada, bob = agents(db, 2)
    connect(google_client, ada, admin_headers)
    connect(google_client, bob, admin_headers)
    team, type_id = make_team(google_client, admin_headers, [ada, bob])
    form = {
        "meeting_type_id": type_id,
        "timezone": "UTC",
        "first_name": "Iva",
        "last_name": "I",
        "email": "iva@example.com",
    }
    created = google_client.post(
        f"/api/v1/links/{team['link']}/bookings", json={**form, "start": "2026-06-10T10:00:00Z"}
    )
    assert created.status_code == 201, created.text
    drain(google_settings, worker_clock, db)
    (first_event,) = standin.live_events()
    # Ada (who took it) is busy at 13:00 through her own link: the reschedule moves the call to Bob.
    ada_link = next(
        a["link"] for a in google_client.get("/api/v1/admin/agents", headers=admin_headers).json() if a["id"] == ada
    )
    ada_type = google_client.get(f"/api/v1/links/{ada_link}").json()["meeting_types"][0]["id"]
    direct = google_client.post(
        f"/api/v1/links/{ada_link}/bookings",
        json={**form, "meeting_type_id": ada_type, "start": "2026-06-10T13:00:00Z", "email": "other@example.com"},
    )
    assert direct.status_code == 201
    token = created.json()["manage_url"].rsplit("/", 1)[-1]
    moved = google_client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-10T13:00:00Z"})
    assert moved.status_code == 200, moved.text
    drain(google_settings, worker_clock, db)
    with session_scope(db) as session:
        booking = session.get_one(Booking, created.json()["id"])
        assert booking.agent_id == bob
        new_event = booking.provider_event_id
        ada_email = session.get_one(Agent, ada).email
        to_ada = [m.subject for m in session.scalars(select(EmailMessage).where(EmailMessage.to_address == ada_email))]
    live = standin.live_events()
    assert first_event not in live
    assert new_event in live
    assert live[new_event]["start"]["dateTime"] == "2026-06-10T13:00:00Z"
    assert len(to_ada) == 3  # new call, the direct booking's new call, and the cancellation of the moved one

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, Contact, Event, OutboxJob, Visitor
from tests.factories import committed_agent
from tests.widget_api.test_bad_input import form


def test_same_idempotency_key_returns_the_same_booking(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    headers = {"Idempotency-Key": "attempt-1"}
    first = client.post(f"/api/v1/links/{link}/bookings", json=form(types["Demo"]), headers=headers)
    retry = client.post(f"/api/v1/links/{link}/bookings", json=form(types["Demo"]), headers=headers)
    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json() == first.json()
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        names = session.scalars(select(Event.name)).all()
        assert names.count("calendar_4th_step_submit") == 1
        assert names.count("booking_confirmed") == 1
        assert session.scalar(select(func.count()).select_from(OutboxJob)) == 2  # agent + invitee email


def test_reused_idempotency_key_with_other_data_is_refused(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    headers = {"Idempotency-Key": "attempt-2"}
    assert client.post(f"/api/v1/links/{link}/bookings", json=form(types["Demo"]), headers=headers).status_code == 201
    other = form(types["Demo"], start="2026-06-02T10:00:00+02:00")
    response = client.post(f"/api/v1/links/{link}/bookings", json=other, headers=headers)
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]


def test_anonymous_visitor_is_merged_into_the_contact_with_that_email(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    # The person booked once before from another browser.
    assert (
        client.post(
            f"/api/v1/links/{link}/bookings",
            json=form(types["Demo"], visitor_id="old-browser", session_id="s-0"),
        ).status_code
        == 201
    )
    # Now, anonymous in a new browser, they walk through the steps…
    for name, extra in (
        ("calendar_1st_step", {"meeting_type_id": types["Assistance"]}),
        ("calendar_2nd_step", {"meeting_type_id": types["Assistance"], "date": "2026-06-03"}),
        ("calendar_3rd_step", {"meeting_type_id": types["Assistance"], "start": "2026-06-03T11:00:00+02:00"}),
    ):
        body = {"visitor_id": "new-browser", "session_id": "s-1", "link": link, "name": name, **extra}
        assert client.post("/api/v1/events", json=body).status_code == 202
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 2  # one anonymous so far
    # …and submit with the same email.
    assert (
        client.post(
            f"/api/v1/links/{link}/bookings",
            json=form(
                types["Assistance"], start="2026-06-03T11:00:00+02:00", visitor_id="new-browser", session_id="s-1"
            ),
        ).status_code
        == 201
    )
    with session_scope(db) as session:
        contacts = session.scalars(select(Contact)).all()
        assert [c.email for c in contacts] == ["ada@example.com"]
        contact_id = contacts[0].id
        assert {v.id: v.contact_id for v in session.scalars(select(Visitor))} == {
            "old-browser": contact_id,
            "new-browser": contact_id,
        }
        timeline = session.scalars(select(Event.name).where(Event.contact_id == contact_id)).all()
        assert timeline.count("calendar_1st_step") == 1
        assert timeline.count("booking_confirmed") == 2
        step3 = session.scalar(select(Event).where(Event.name == "calendar_3rd_step"))
        assert step3 is not None
        assert step3.chosen_start is not None
        assert step3.attributes == {}

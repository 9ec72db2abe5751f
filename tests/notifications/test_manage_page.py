"""The hosted manage page /manage/{token}: HTML forms driven through the app (TestClient)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, Event
from tests.factories import committed_agent
from tests.notifications.conftest import book, manage_token

TUESDAY_0900 = "2026-06-02T09:00:00+02:00"


def _booking(db: sessionmaker[Session], token: str) -> Booking:
    with session_scope(db) as session:
        booking = session.scalar(select(Booking).where(Booking.manage_token == token))
        assert booking is not None
        return booking


def _events(db: sessionmaker[Session], name: str) -> list[Event]:
    with session_scope(db) as session:
        return list(session.scalars(select(Event).where(Event.name == name)))


def test_page_shows_the_booking_escaped_in_the_invitees_zone(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db, name="Grace <b>Hopper</b>", timezone="America/New_York")
    token = manage_token(
        book(
            client,
            link,
            types["Demo"],
            "2026-06-02T15:00:00+02:00",
            first_name="<script>alert(1)</script>",
            description="line 1\nline <i>2</i>",
        )
    )
    page = client.get(f"/manage/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Grace &lt;b&gt;Hopper&lt;/b&gt;" in html
    assert "line &lt;i&gt;2&lt;/i&gt;" in html
    assert "Tuesday, 2 June 2026, 15:00–15:30 (Europe/Warsaw, UTC+02:00)" in html
    assert 'data-status="confirmed"' in html
    assert 'name="viewport"' in html
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_unknown_token_gets_a_404_page(client: TestClient) -> None:
    page = client.get("/manage/no-such-token")
    assert page.status_code == 404
    assert "Booking not found" in page.text
    assert client.post("/manage/no-such-token/cancel", data={"reason": "x"}).status_code == 404


def test_cancel_with_a_reason_then_no_reschedule(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))

    response = client.post(f"/manage/{token}/cancel", data={"reason": "Sick <today>"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/manage/{token}?done=cancelled"
    page = client.get(response.headers["location"])
    assert 'data-status="cancelled"' in page.text
    assert "Your booking is cancelled" in page.text
    assert "Sick &lt;today&gt;" in page.text
    assert "cannot be rescheduled" in page.text
    assert 'action="/manage/' not in page.text  # no forms left
    assert f'href="http://testserver/b/{link}"' in page.text

    booking = _booking(db, token)
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Sick <today>")
    assert [e.attributes["reason"] for e in _events(db, "booking_cancelled")] == ["Sick <today>"]

    refused = client.post(f"/manage/{token}/reschedule", data={"start": "2026-06-02T11:00:00+00:00"})
    assert refused.status_code == 409
    assert "cancelled, so it cannot be rescheduled" in refused.text
    assert _booking(db, token).start_at.isoformat() == "2026-06-02T07:00:00+00:00"


def test_cancel_without_a_reason(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))
    page = client.post(f"/manage/{token}/cancel", data={"reason": ""})
    assert page.status_code == 200  # after the redirect
    assert 'data-status="cancelled"' in page.text
    assert _booking(db, token).cancel_reason is None


def test_reschedule_by_picking_a_day_and_a_time(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))

    month = client.get(f"/manage/{token}").text
    days = re.findall(r'data-date="([\d-]+)"', month)
    assert "2026-06-02" in days
    assert "2026-06-06" not in days
    day = client.get(f"/manage/{token}", params={"date": "2026-06-02"}).text
    starts = re.findall(r'data-start="([^"]+)"', day)
    assert "2026-06-02T07:00:00+00:00" not in starts  # its own current time
    assert starts[0] == "2026-06-02T07:30:00+00:00"
    assert ">09:30<" in day  # labelled in the invitee's zone

    response = client.post(
        f"/manage/{token}/reschedule",
        data={"date": "2026-06-02", "start": "2026-06-02T12:00:00+00:00"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Your booking was moved" in page.text
    assert "Tuesday, 2 June 2026, 14:00–14:30 (Europe/Warsaw" in page.text
    booking = _booking(db, token)
    assert (booking.start_at.isoformat(), booking.sequence) == ("2026-06-02T12:00:00+00:00", 1)
    assert len(_events(db, "booking_rescheduled")) == 1
    # The old time is free again for everyone.
    slots = client.get(
        f"/api/v1/links/{link}/slots", params={"meeting_type_id": types["Demo"], "date": "2026-06-02", "tz": "UTC"}
    ).json()["slots"]
    assert "2026-06-02T07:00:00Z" in [s["start"].replace("+00:00", "Z") for s in slots]


def test_reschedule_to_a_taken_or_invalid_time_explains_and_changes_nothing(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))
    book(client, link, types["Demo"], "2026-06-02T10:00:00+02:00", email="bob@example.com")

    taken = client.post(
        f"/manage/{token}/reschedule", data={"date": "2026-06-02", "start": "2026-06-02T08:00:00+00:00"}
    )
    assert taken.status_code == 409
    assert "That time cannot be booked" in taken.text
    assert 'data-start="' in taken.text  # fresh free times to pick from
    garbage = client.post(f"/manage/{token}/reschedule", data={"start": "tomorrow"})
    assert garbage.status_code == 422
    assert "Please pick one of the free times" in garbage.text
    off_grid = client.post(f"/manage/{token}/reschedule", data={"start": "2026-06-02T08:10:00+00:00"})
    assert off_grid.status_code == 422
    booking = _booking(db, token)
    assert (booking.start_at.isoformat(), booking.sequence, booking.status) == (
        "2026-06-02T07:00:00+00:00",
        0,
        "confirmed",
    )
    assert _events(db, "booking_rescheduled") == []


def test_month_navigation_stays_inside_the_horizon(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    token = manage_token(book(client, link, types["Demo"], TUESDAY_0900))
    june = client.get(f"/manage/{token}").text
    assert "June 2026" in june
    assert 'aria-label="Previous month"' not in june
    assert "?month=2026-07" in june
    july = client.get(f"/manage/{token}", params={"month": "2026-07"}).text
    assert "July 2026" in july
    july_days = re.findall(r'data-date="([\d-]+)"', july)
    assert "2026-07-30" in july_days
    assert "2026-07-31" not in july_days  # the 60-day horizon ends on 31 July at 06:00 UTC
    far = client.get(f"/manage/{token}", params={"month": "2027-01"}).text
    assert "June 2026" in far  # outside the horizon: back to this month

"""The change cut-off on the hosted manage page (HTML through the app) and in the confirmation email."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import STATUS_CONFIRMED, Booking
from shared.notifications.emails import render_booking_email
from shared.settings import Settings
from tests.factories import committed_agent
from tests.notifications.conftest import book, manage_token

# now = 2026-06-01 06:00Z (tests/conftest.py). Warsaw is +02:00, the invitee books in Warsaw.
SOON = "2026-06-01T12:00:00+02:00"  # 10:00Z: four hours from now
LATER = "2026-06-03T12:00:00+02:00"


def _booking(db: sessionmaker[Session], token: str) -> Booking:
    with session_scope(db) as session:
        booking = session.scalar(select(Booking).where(Booking.manage_token == token))
        assert booking is not None
        return booking


def test_within_the_cutoff_the_page_shows_the_message_and_refuses_the_forms(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(
        db,
        name="Grace",
        weekly={"mon": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]]},
        min_notice_minutes=60,
        change_cutoff_minutes=24 * 60,
    )
    token = manage_token(book(client, link, types["Demo"], SOON))
    page = client.get(f"/manage/{token}")
    assert page.status_code == 200
    assert "This booking can no longer be changed online" in page.text
    # 2026-06-01 10:00Z − 24 h = 2026-05-31 12:00 in Warsaw.
    assert "Changes were possible until Sunday, 31 May 2026, 12:00 (Europe/Warsaw)" in page.text
    assert "Cancel booking" not in page.text
    assert 'action="/manage/' not in page.text

    # Posting the forms anyway: 409 with the reason, nothing changed.
    cancelled = client.post(f"/manage/{token}/cancel", data={"reason": "sorry"}, follow_redirects=False)
    assert cancelled.status_code == 409
    assert "can no longer be cancelled or rescheduled online" in cancelled.text
    moved = client.post(
        f"/manage/{token}/reschedule",
        data={"start": "2026-06-03T10:00:00+00:00", "date": "2026-06-03"},
        follow_redirects=False,
    )
    assert moved.status_code == 409
    booking = _booking(db, token)
    assert booking.status == STATUS_CONFIRMED
    assert booking.start_at == dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
    assert booking.sequence == 0


def test_outside_the_cutoff_the_page_says_until_when_and_still_changes(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db, weekly={"wed": [["09:00", "17:00"]]}, change_cutoff_minutes=90)
    token = manage_token(book(client, link, types["Demo"], LATER))
    page = client.get(f"/manage/{token}")
    assert "You can cancel or reschedule until Wednesday, 3 June 2026, 10:30 (Europe/Warsaw)." in page.text
    assert "Cancel booking" in page.text
    done = client.post(f"/manage/{token}/cancel", data={"reason": ""}, follow_redirects=False)
    assert done.status_code == 303
    assert _booking(db, token).status == "cancelled"


def test_without_a_cutoff_the_page_has_no_deadline_line(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db, weekly={"wed": [["09:00", "17:00"]]})
    token = manage_token(book(client, link, types["Demo"], LATER))
    page = client.get(f"/manage/{token}")
    assert "data-changes-until" not in page.text
    assert "Cancel booking" in page.text


def test_the_confirmation_email_says_until_when_in_the_invitees_zone(
    client: TestClient, db: sessionmaker[Session], settings: Settings
) -> None:
    _, link, types = committed_agent(
        db, timezone="America/New_York", weekly={"wed": [["05:00", "17:00"]]}, change_cutoff_minutes=120
    )
    token = manage_token(book(client, link, types["Demo"], LATER))  # 10:00Z, 06:00 in New York
    now = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)
    with session_scope(db) as session:
        booking = session.scalar(select(Booking).where(Booking.manage_token == token))
        assert booking is not None
        invitee = render_booking_email(booking, event="created", recipient="invitee", settings=settings, now=now)
        agent = render_booking_email(booking, event="created", recipient="agent", settings=settings, now=now)
    line = "Changes are possible online until Wednesday, 3 June 2026, 10:00 (Europe/Warsaw)."
    assert line in invitee.text_body
    assert line in invitee.html_body
    assert "Changes are possible online" not in agent.text_body


def test_without_a_cutoff_the_email_has_no_deadline(
    client: TestClient, db: sessionmaker[Session], settings: Settings
) -> None:
    _, link, types = committed_agent(db, weekly={"wed": [["09:00", "17:00"]]})
    token = manage_token(book(client, link, types["Demo"], LATER))
    with session_scope(db) as session:
        booking = session.scalar(select(Booking).where(Booking.manage_token == token))
        assert booking is not None
        email = render_booking_email(
            booking, event="created", recipient="invitee", settings=settings, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        )
    assert "Changes are possible online" not in email.text_body

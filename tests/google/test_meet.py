"""Google Meet (SPEC §14): the conference is asked for with the event, its link becomes the booking's
join_url and reaches the invitee exactly once: in the confirmation, or in a "joining details" email
when the confirmation could not wait for it. Real Google client libraries against the stand-in, real
worker, aiosmtpd for the mails."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.calendars.google.client import GoogleCalendarClient
from shared.calendars.google.events import conference_request_id, event_id_for
from shared.db import session_scope
from shared.models import Booking
from shared.notifications.webhooks import create_endpoint
from shared.settings import Settings
from tests.conftest import Clock
from tests.google.conftest import (
    ConnectedAgent,
    book,
    booking_form,
    connection_of,
    drain,
    manage_token,
    stored_tokens,
)
from tests.google.standin import Fault, GoogleStandIn
from tests.notifications.conftest import (  # noqa: F401 - fixtures used here
    SmtpServer,
    StartSmtp,
    WebhookReceiver,
    start_smtp,
    tls_files,
    webhook_receiver,
    with_settings,
)

START = "2026-06-02T09:00:00+02:00"
MEET_LINK = re.compile(r"https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}")


def _booking(db: sessionmaker[Session], booking_id: int) -> Booking:
    with session_scope(db) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking


def _use_meet(client: TestClient, agent: ConnectedAgent, headers: dict[str, str], type_name: str = "Demo") -> None:
    response = client.patch(
        f"/api/v1/admin/meeting-types/{agent.types[type_name]}",
        json={"location": {"kind": "google_meet"}},
        headers=headers,
    )
    assert response.status_code == 200, response.text


def _mails_to(smtp: SmtpServer, address: str) -> list[tuple[str, str, str]]:
    return [(str(m.message["Subject"]), m.part("text/plain"), m.part("text/html")) for m in smtp.recorder.to(address)]


@pytest.fixture
def meet_setup(
    google_client: TestClient,
    google_settings: Settings,
    connected_agent: ConnectedAgent,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    start_smtp: StartSmtp,  # noqa: F811 - the fixture imported above
    webhook_receiver: WebhookReceiver,  # noqa: F811
) -> tuple[Settings, SmtpServer]:
    _use_meet(google_client, connected_agent, admin_headers)
    with session_scope(db) as session:
        create_endpoint(
            session,
            url=webhook_receiver.url,
            events=["booking.created", "booking.updated", "booking.rescheduled"],
            allow_private=True,
        )
    smtp = start_smtp()
    return with_settings(google_settings, smtp_url=smtp.url, webhook_allow_private=True), smtp


def _drain_all(settings: Settings, worker_clock: Clock, db: sessionmaker[Session]) -> None:
    drain(settings, worker_clock, db)
    drain(settings, worker_clock, db)  # what the calendar job planned (the email, the webhook)


def test_the_meet_link_is_created_with_the_event_and_is_in_the_confirmation(
    google_client: TestClient,
    meet_setup: tuple[Settings, SmtpServer],
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
    webhook_receiver: WebhookReceiver,  # noqa: F811
) -> None:
    settings, smtp = meet_setup
    created = book(google_client, connected_agent, START)
    assert created["location"] == {"kind": "google_meet", "value": None, "join_url": None}  # not written yet
    _drain_all(settings, worker_clock, db)

    booking = _booking(db, created["id"])
    assert booking.join_url is not None
    assert MEET_LINK.fullmatch(booking.join_url)
    (insert,) = standin.calls_to("events.insert")
    assert insert["query"]["conferenceDataVersion"] == "1"
    assert insert["body"]["conferenceData"] == {
        "createRequest": {
            "requestId": conference_request_id(booking),
            "conferenceSolutionKey": {"type": "hangoutsMeet"},
        }
    }
    assert standin.live_events()[event_id_for(booking)]["hangoutLink"] == booking.join_url
    answer = google_client.get(f"/api/v1/bookings/{manage_token(created)}").json()
    assert answer["location"] == {"kind": "google_meet", "value": None, "join_url": booking.join_url}

    (confirmation,) = _mails_to(smtp, "ada@example.com")  # no joining-details email: it was not needed
    subject, text, html = confirmation
    assert subject.startswith("Confirmed:")
    assert booking.join_url in text
    assert f'href="{booking.join_url}"' in html
    (agent_mail,) = [m for m in smtp.recorder.received if "ada@example.com" not in m.rcpt_tos]
    assert booking.join_url in agent_mail.part("text/plain")
    assert f"LOCATION:{booking.join_url}" in agent_mail.attachment("invite.ics").decode()
    manage_page = google_client.get(f"/manage/{manage_token(created)}")
    assert manage_page.status_code == 200
    assert f'href="{booking.join_url}"' in manage_page.text
    # The webhook of the booking went out before the link existed; the link came as booking.updated.
    kinds = [(r.json()["type"], r.json()["data"]["booking"]["location"]["join_url"]) for r in webhook_receiver.received]
    assert kinds == [("booking.created", None), ("booking.updated", booking.join_url)]


def test_the_link_arrives_after_retries_and_follows_in_one_joining_details_email(
    google_client: TestClient,
    meet_setup: tuple[Settings, SmtpServer],
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
    webhook_receiver: WebhookReceiver,  # noqa: F811
) -> None:
    settings, smtp = meet_setup
    # Google is down, then does the insert but the answer is lost; the third attempt finds it (409).
    standin.fail_next("events.insert", 503, Fault(500, "backendError", after_effect=True))
    created = book(google_client, connected_agent, START)
    _drain_all(settings, worker_clock, db)
    for _ in range(3):  # later rounds change nothing
        _drain_all(settings, worker_clock, db)

    booking = _booking(db, created["id"])
    assert booking.join_url is not None
    assert MEET_LINK.fullmatch(booking.join_url)
    inserts = standin.calls_to("events.insert")
    assert len(inserts) == 3
    assert {i["body"]["conferenceData"]["createRequest"]["requestId"] for i in inserts} == {
        conference_request_id(booking)
    }
    assert len(standin.conferences) == 1  # one conference for the booking, whatever the retries

    mails = _mails_to(smtp, "ada@example.com")
    assert [subject.split(":")[0] for subject, _, _ in mails] == ["Confirmed", "Joining details"]
    (_, confirmation_text, _), (_, joining_text, joining_html) = mails
    assert booking.join_url not in confirmation_text
    assert "the link follows in a separate email" in confirmation_text
    assert booking.join_url in joining_text
    assert f'href="{booking.join_url}"' in joining_html
    updated = [r.json() for r in webhook_receiver.received if r.json()["type"] == "booking.updated"]
    assert [u["data"]["booking"]["location"]["join_url"] for u in updated] == [booking.join_url]


def test_a_conference_still_pending_is_asked_again_and_the_link_is_told_once(
    google_client: TestClient,
    meet_setup: tuple[Settings, SmtpServer],
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    settings, smtp = meet_setup
    standin.meet_pending_answers = 2  # Google answers "pending" twice before the link shows
    created = book(google_client, connected_agent, START)
    for _ in range(4):
        _drain_all(settings, worker_clock, db)
    booking = _booking(db, created["id"])
    assert booking.join_url is not None
    assert MEET_LINK.fullmatch(booking.join_url)
    texts = [text for _, text, _ in _mails_to(smtp, "ada@example.com")]
    assert sum(booking.join_url in text for text in texts) == 1
    assert len(standin.conferences) == 1


def test_a_reschedule_keeps_the_link_and_a_cancel_deletes_the_event(
    google_client: TestClient,
    meet_setup: tuple[Settings, SmtpServer],
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    settings, smtp = meet_setup
    created = book(google_client, connected_agent, START)
    _drain_all(settings, worker_clock, db)
    link = _booking(db, created["id"]).join_url
    assert link is not None
    token = manage_token(created)
    moved = google_client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-02T11:00:00+02:00"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["location"]["join_url"] == link
    _drain_all(settings, worker_clock, db)
    booking = _booking(db, created["id"])
    assert booking.join_url == link
    (patch,) = standin.calls_to("events.patch")
    assert "conferenceData" not in patch["body"]
    event = standin.live_events()[event_id_for(booking)]
    assert event["hangoutLink"] == link
    assert event["start"]["dateTime"] == "2026-06-02T09:00:00Z"
    rescheduled = [text for subject, text, _ in _mails_to(smtp, "ada@example.com") if subject.startswith("Rescheduled")]
    assert len(rescheduled) == 1
    assert link in rescheduled[0]

    assert google_client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 200
    _drain_all(settings, worker_clock, db)
    assert standin.live_events() == {}
    assert event_id_for(booking) in standin.deleted_events()


def _raw_insert(
    settings: Settings, db: sessionmaker[Session], agent: ConnectedAgent, body: dict[str, Any], **query: Any
) -> Any:
    tokens = stored_tokens(db, settings, agent.id)
    client = GoogleCalendarClient(settings, tokens.to_credentials(settings, list(connection_of(db, agent.id).scopes)))
    return client._service.events().insert(calendarId="primary", body=body, **query).execute()


def test_the_standin_honours_conference_data_as_google_does(
    google_settings: Settings, standin: GoogleStandIn, connected_agent: ConnectedAgent, db: sessionmaker[Session]
) -> None:
    request = {"createRequest": {"requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    times = {"start": {"dateTime": "2026-06-02T07:00:00Z"}, "end": {"dateTime": "2026-06-02T07:30:00Z"}}
    dropped = _raw_insert(google_settings, db, connected_agent, {"id": "a" * 20, **times, "conferenceData": request})
    assert "hangoutLink" not in dropped  # without conferenceDataVersion=1 the request is ignored
    assert "conferenceData" not in dropped
    first = _raw_insert(
        google_settings,
        db,
        connected_agent,
        {"id": "b" * 20, **times, "conferenceData": request},
        conferenceDataVersion=1,
    )
    again = _raw_insert(
        google_settings,
        db,
        connected_agent,
        {"id": "c" * 20, **times, "conferenceData": request},
        conferenceDataVersion=1,
    )
    assert MEET_LINK.fullmatch(first["hangoutLink"])
    assert again["hangoutLink"] == first["hangoutLink"]  # the same requestId, the same conference
    other = {"createRequest": {"requestId": "req-2", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    third = _raw_insert(
        google_settings,
        db,
        connected_agent,
        {"id": "d" * 20, **times, "conferenceData": other},
        conferenceDataVersion=1,
    )
    assert third["hangoutLink"] != first["hangoutLink"]


def test_location_text_and_the_invitee_phone_are_escaped_everywhere_they_are_shown(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    admin_headers: dict[str, str],
    worker_clock: Clock,
    db: sessionmaker[Session],
    start_smtp: StartSmtp,  # noqa: F811
) -> None:
    address = "<b>HQ</b> & <script>x()</script>"
    response = google_client.patch(
        f"/api/v1/admin/meeting-types/{connected_agent.types['Onboarding']}",
        json={"location": {"kind": "in_person", "value": address}},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    smtp = start_smtp()
    settings = with_settings(google_settings, smtp_url=smtp.url)
    created = google_client.post(
        f"/api/v1/links/{connected_agent.link}/bookings",
        json=booking_form(connected_agent.types["Onboarding"], START, phone="+48 (22) 555-01-02"),
    )
    assert created.status_code == 201, created.text
    _drain_all(settings, worker_clock, db)

    escaped = "&lt;b&gt;HQ&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;"
    for mail in smtp.recorder.received:
        html = mail.part("text/html")
        assert escaped in html
        assert "<script>" not in html
        assert address in mail.part("text/plain")  # plain text shows characters as typed
    agent_text = next(m for m in smtp.recorder.received if "ada@example.com" not in m.rcpt_tos).part("text/plain")
    assert "+48 (22) 555-01-02" in agent_text
    page = google_client.get(f"/manage/{manage_token(created.json())}").text
    assert escaped in page
    assert "<script>x()" not in page
    (event,) = standin.live_events().values()
    assert f"Where: {escaped}" in event["description"]
    assert "Phone: +48 (22) 555-01-02" in event["description"]
    assert event["location"] == address  # a plain-text field in Google Calendar

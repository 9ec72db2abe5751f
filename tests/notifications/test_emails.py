"""Emails from the outbox to a real SMTP server (aiosmtpd on 127.0.0.1), sent by the real worker."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.db import session_scope
from shared.models import EmailMessage, OutboxJob
from shared.models.outbox import JOB_DONE, JOB_FAILED, JOB_PENDING, JOB_RUNNING
from shared.notifications.errors import InvalidSmtpUrl
from shared.notifications.planning import EMAIL_JOB, plan_agent_notice
from shared.notifications.smtp import parse_smtp_url
from shared.outbox.contract import JobContext, JobHandler
from shared.outbox.service import claim_due_jobs
from shared.outbox.worker import run_job
from shared.settings import Settings
from tests.factories import committed_agent
from tests.notifications.conftest import (
    MailRecorder,
    ReceivedMail,
    StartSmtp,
    book,
    drain,
    free_port,
    manage_token,
    with_settings,
)

# The plain AUTH server is deliberate (SMTP_URL without TLS must still log in); aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

AGENT_EMAIL = "grace@example.com"
INVITEE_EMAIL = "ada@example.com"
# Tuesday 09:00 in New York (the agent) is 15:00 in Warsaw (the invitee) and 13:00 UTC.
START = "2026-06-02T15:00:00+02:00"
START_UTC = dt.datetime(2026, 6, 2, 13, 0, tzinfo=dt.UTC)


def _agent(db: sessionmaker[Session]) -> tuple[str, dict[str, int]]:
    _, link, types = committed_agent(db, name="Grace Hopper", email=AGENT_EMAIL, timezone="America/New_York")
    return link, types


def _calendar(mail: ReceivedMail) -> Calendar:
    calendar = Calendar.from_ical(mail.attachment("invite.ics"))
    assert calendar.to_ical() == Calendar.from_ical(mail.part("text/calendar")).to_ical()
    return calendar


def _vevent(calendar: Calendar) -> dict[str, object]:
    (event,) = calendar.walk("VEVENT")
    return {
        "uid": str(event["uid"]),
        "start": event.decoded("dtstart"),
        "end": event.decoded("dtend"),
        "sequence": int(event["sequence"]),
        "status": str(event["status"]),
        "organizer": str(event["organizer"]),
        "attendee": str(event["attendee"]),
    }


def test_new_booking_emails_agent_and_invitee_with_escaped_content_and_invitation(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("auth")
    link, types = _agent(db)
    created = book(
        client,
        link,
        types["Demo"],
        START,
        first_name="<script>alert(1)</script>",
        description="Line one\n<b>bold?</b>",
    )

    assert drain(with_settings(settings, smtp_url=server.url)) == 2

    (to_agent,) = server.recorder.to(AGENT_EMAIL)
    assert to_agent.message["Subject"] == "New call scheduled: Demo with <script>alert(1)</script> Lovelace"
    html = to_agent.part("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    text = to_agent.part("text/plain")
    assert "<script>alert(1)</script> Lovelace" in text  # plain text shows characters as typed
    assert "Analytical Engines" in text
    assert INVITEE_EMAIL in text
    assert "Line one" in text
    assert "Tuesday, 2 June 2026, 09:00–09:30 (America/New_York, UTC-04:00)" in text
    assert to_agent.message["Reply-To"] == INVITEE_EMAIL
    agent_event = _vevent(_calendar(to_agent))
    assert str(_calendar(to_agent)["method"]) == "REQUEST"
    assert agent_event["start"] == START_UTC
    assert agent_event["end"] == START_UTC + dt.timedelta(minutes=30)
    assert agent_event["sequence"] == 0
    assert agent_event["status"] == "CONFIRMED"
    assert agent_event["organizer"] == f"mailto:{AGENT_EMAIL}"
    assert agent_event["attendee"] == f"mailto:{INVITEE_EMAIL}"
    assert "DTSTART:20260602T130000Z" in _calendar(to_agent).to_ical().decode()

    (to_invitee,) = server.recorder.to(INVITEE_EMAIL)
    assert to_invitee.message["Subject"] == "Confirmed: Demo with Grace Hopper"
    assert created["manage_url"] in to_invitee.part("text/plain")
    assert f'href="{created["manage_url"]}"' in to_invitee.part("text/html")
    assert "Tuesday, 2 June 2026, 15:00–15:30 (Europe/Warsaw, UTC+02:00)" in to_invitee.part("text/plain")
    assert to_invitee.message["Reply-To"] == AGENT_EMAIL
    assert _vevent(_calendar(to_invitee))["uid"] == agent_event["uid"]
    assert manage_token(created) not in str(agent_event["uid"])

    with session_scope(db) as session:
        rows = session.scalars(select(EmailMessage)).all()
        assert {row.to_address for row in rows} == {AGENT_EMAIL, INVITEE_EMAIL}
        assert all(row.transport == "smtp" and row.sent_at is not None for row in rows)
        assert {row.message_id for row in rows} == {to_agent.message["Message-ID"], to_invitee.message["Message-ID"]}


def test_reschedule_and_cancel_send_updated_invitations(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("plain")
    mail_settings = with_settings(settings, smtp_url=server.url)
    link, types = _agent(db)
    token = manage_token(book(client, link, types["Demo"], START))
    drain(mail_settings)
    first_uid = _vevent(_calendar(server.recorder.to(AGENT_EMAIL)[0]))["uid"]

    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-03T16:00:00+02:00"})
    assert moved.status_code == 200, moved.text
    assert drain(mail_settings) == 2
    agent_mail = server.recorder.to(AGENT_EMAIL)[-1]
    invitee_mail = server.recorder.to(INVITEE_EMAIL)[-1]
    assert agent_mail.message["Subject"] == "Call rescheduled: Demo with Ada Lovelace"
    assert invitee_mail.message["Subject"] == "Rescheduled: Demo with Grace Hopper"
    for mail in (agent_mail, invitee_mail):
        calendar = _calendar(mail)
        assert str(calendar["method"]) == "REQUEST"
        event = _vevent(calendar)
        assert event["uid"] == first_uid
        assert event["sequence"] == 1
        assert event["start"] == dt.datetime(2026, 6, 3, 14, 0, tzinfo=dt.UTC)
    assert "Wednesday, 3 June 2026, 10:00–10:30 (America/New_York" in agent_mail.part("text/plain")

    cancelled = client.post(f"/api/v1/bookings/{token}/cancel", json={"reason": "Found the <answer>"})
    assert cancelled.status_code == 200
    assert drain(mail_settings) == 2
    agent_mail = server.recorder.to(AGENT_EMAIL)[-1]
    invitee_mail = server.recorder.to(INVITEE_EMAIL)[-1]
    assert agent_mail.message["Subject"] == "Call cancelled: Demo with Ada Lovelace"
    assert invitee_mail.message["Subject"] == "Cancelled: Demo with Grace Hopper"
    assert "Found the &lt;answer&gt;" in agent_mail.part("text/html")
    assert "Found the <answer>" in invitee_mail.part("text/plain")
    for mail in (agent_mail, invitee_mail):
        calendar = _calendar(mail)
        assert str(calendar["method"]) == "CANCEL"
        event = _vevent(calendar)
        assert (event["uid"], event["sequence"], event["status"]) == (first_uid, 2, "CANCELLED")
    assert len(server.recorder.received) == 6


def test_exactly_one_email_when_the_worker_dies_after_sending(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("plain")
    mail_settings = with_settings(settings, smtp_url=server.url, worker_lease_seconds=60)
    link, types = _agent(db)
    book(client, link, types["Demo"], START)

    class WorkerKilled(BaseException):
        """Stands for the process dying: not an Exception, so the worker records nothing."""

    real = job_handlers()[EMAIL_JOB]

    def send_then_die(context: JobContext, job: OutboxJob) -> None:
        real(context, job)
        raise WorkerKilled

    handlers: dict[str, JobHandler] = {EMAIL_JOB: send_then_die}
    context = JobContext(settings=mail_settings, sessionmaker=db, clock=lambda: dt.datetime.now(dt.UTC))
    with session_scope(db) as session:
        job_ids = claim_due_jobs(session, worker_id="doomed", now=context.clock(), limit=10, lease_seconds=60)
    assert len(job_ids) == 2
    for job_id in job_ids:
        with contextlib.suppress(WorkerKilled):
            run_job(context, job_id, worker_id="doomed", handlers=handlers, rng=random.Random(1))
    assert len(server.recorder.received) == 2
    with session_scope(db) as session:
        assert {job.status for job in session.scalars(select(OutboxJob))} == {JOB_RUNNING}

    # A new worker takes the jobs over once the dead worker's lease has expired.
    assert drain(mail_settings, later=dt.timedelta(seconds=61)) == 2
    assert len(server.recorder.received) == 2
    assert len(server.recorder.to(AGENT_EMAIL)) == 1
    assert len(server.recorder.to(INVITEE_EMAIL)) == 1
    with session_scope(db) as session:
        assert {job.status for job in session.scalars(select(OutboxJob))} == {JOB_DONE}
        assert len(session.scalars(select(EmailMessage)).all()) == 2


def test_smtp_down_is_retried_then_delivered(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    port = free_port()  # nothing listens here yet
    mail_settings = with_settings(settings, smtp_url=f"smtp://127.0.0.1:{port}")
    link, types = _agent(db)
    book(client, link, types["Demo"], START)

    assert drain(mail_settings) == 2
    with session_scope(db) as session:
        jobs = session.scalars(select(OutboxJob)).all()
        assert {job.status for job in jobs} == {JOB_PENDING}
        assert all("cannot connect to SMTP server" in (job.last_error or "") for job in jobs)
        assert all(row.sent_at is None for row in session.scalars(select(EmailMessage)))

    server = start_smtp("plain", port=port)
    assert drain(mail_settings, later=dt.timedelta(hours=2)) == 2
    assert len(server.recorder.received) == 2
    with session_scope(db) as session:
        assert {job.status for job in session.scalars(select(OutboxJob))} == {JOB_DONE}
        assert all(row.sent_at is not None for row in session.scalars(select(EmailMessage)))


def test_temporary_reply_is_retried_and_permanent_reply_is_recorded(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    recorder = MailRecorder(replies=["451 4.3.0 try again later", "550 5.1.1 mailbox unknown"])
    server = start_smtp("plain", recorder=recorder)
    mail_settings = with_settings(settings, smtp_url=server.url)
    link, types = _agent(db)
    book(client, link, types["Demo"], START)

    drain(mail_settings)
    with session_scope(db) as session:
        jobs = session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()
        assert [job.status for job in jobs] == [JOB_PENDING, JOB_FAILED]
        assert "451" in (jobs[0].last_error or "")
        assert "550" in (jobs[1].last_error or "")
        assert "mailbox unknown" in (jobs[1].last_error or "")
    assert recorder.received == []

    drain(mail_settings, later=dt.timedelta(hours=2))
    assert [mail.rcpt_tos for mail in recorder.received] == [[AGENT_EMAIL]]
    with session_scope(db) as session:
        failed = session.scalar(select(EmailMessage).where(EmailMessage.to_address == INVITEE_EMAIL))
        assert failed is not None
        assert failed.sent_at is None


def test_without_smtp_url_emails_are_kept_in_the_database(
    client: TestClient, db: sessionmaker[Session], settings: Settings
) -> None:
    assert settings.smtp_url is None
    link, types = _agent(db)
    book(client, link, types["Demo"], START)

    assert drain(settings) == 2
    assert drain(settings, later=dt.timedelta(hours=1)) == 0
    with session_scope(db) as session:
        rows = session.scalars(select(EmailMessage).order_by(EmailMessage.to_address)).all()
        assert [(row.to_address, row.transport, row.sent_at) for row in rows] == [
            (INVITEE_EMAIL, "stored", None),
            (AGENT_EMAIL, "stored", None),
        ]
        assert rows[1].subject == "New call scheduled: Demo with Ada Lovelace"
        assert rows[0].ics is not None
        assert "METHOD:REQUEST" in rows[0].ics
        assert rows[0].html_body is not None
        assert "Cancel or reschedule" in rows[0].html_body
        assert {job.status for job in session.scalars(select(OutboxJob))} == {JOB_DONE}


def test_starttls_and_implicit_tls_with_auth(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp, trust_test_ca: None
) -> None:
    starttls = start_smtp("starttls")
    implicit = start_smtp("ssl")
    link, types = _agent(db)
    book(client, link, types["Demo"], START)
    drain(with_settings(settings, smtp_url=starttls.url))
    assert len(starttls.recorder.received) == 2

    book(client, link, types["Demo"], "2026-06-02T16:00:00+02:00", email="bob@example.com")
    drain(with_settings(settings, smtp_url=implicit.url))
    assert sorted(r for mail in implicit.recorder.received for r in mail.rcpt_tos) == [
        "bob@example.com",
        AGENT_EMAIL,
    ]


def test_wrong_smtp_password_fails_permanently(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("auth")
    link, types = _agent(db)
    book(client, link, types["Demo"], START)
    drain(with_settings(settings, smtp_url=server.url.replace("p%40ss", "wrong")))
    assert server.recorder.received == []
    with session_scope(db) as session:
        jobs = session.scalars(select(OutboxJob)).all()
        assert {job.status for job in jobs} == {JOB_FAILED}
        assert all("535" in (job.last_error or "") for job in jobs)
        assert all("wrong" not in (job.last_error or "") for job in jobs)


def test_agent_notice_email(db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp) -> None:
    server = start_smtp("plain")
    agent_id, _, _ = committed_agent(db, name="Grace <Hopper>", email=AGENT_EMAIL)
    with session_scope(db) as session:
        plan_agent_notice(
            session,
            agent_id=agent_id,
            template="calendar_reconnect",
            context={"error": "invalid_grant <revoked>"},
            now=dt.datetime.now(dt.UTC),
            dedupe_key="notice:test",
        )
        plan_agent_notice(
            session,
            agent_id=agent_id,
            template="calendar_reconnect",
            context={},
            now=dt.datetime.now(dt.UTC),
            dedupe_key="notice:test",
        )
    drain(with_settings(settings, smtp_url=server.url, dashboard_url="https://dash.example.com"))
    (mail,) = server.recorder.received
    assert mail.rcpt_tos == [AGENT_EMAIL]
    assert mail.message["Subject"] == "Reconnect your Google Calendar to keep bookings in sync"
    assert "Grace &lt;Hopper&gt;" in mail.part("text/html")
    assert "invalid_grant &lt;revoked&gt;" in mail.part("text/html")
    assert "https://dash.example.com" in mail.part("text/plain")


def test_smtp_url_forms() -> None:
    config = parse_smtp_url("smtp://user%40corp:p%40ss@mail.example.com:2525?starttls=1&timeout=5")
    assert (config.host, config.port, config.security) == ("mail.example.com", 2525, "starttls")
    assert (config.username, config.password, config.timeout_seconds) == ("user@corp", "p@ss", 5.0)
    assert parse_smtp_url("smtps://mail.example.com").port == 465
    assert parse_smtp_url("smtp://mail.example.com?starttls=1").port == 587
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.port, plain.security, plain.username) == (25, "plain", None)
    for bad in ("http://mail.example.com", "smtp://", "smtp://h:port"):
        with pytest.raises(InvalidSmtpUrl):
            parse_smtp_url(bad)


def test_a_confirmation_still_queued_when_the_booking_is_cancelled_is_not_sent(
    client: TestClient, db: sessionmaker[Session], settings: Settings
) -> None:
    link, types = _agent(db)
    token = manage_token(book(client, link, types["Demo"], START))
    client.post(f"/api/v1/bookings/{token}/cancel")

    drain(settings)
    with session_scope(db) as session:
        subjects = sorted(row.subject for row in session.scalars(select(EmailMessage)))
        assert subjects == ["Call cancelled: Demo with Ada Lovelace", "Cancelled: Demo with Grace Hopper"]
        assert {job.status for job in session.scalars(select(OutboxJob))} == {JOB_DONE}

"""Reminder emails (SPEC §14): planned with the booking, sent at their time by the real worker to a
real SMTP server (aiosmtpd), exactly once, also when a worker process is killed in the middle."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.db import session_scope
from shared.models import EmailMessage, MeetingType, OutboxJob, utcnow
from shared.notifications.reminders import REMINDER_JOB
from shared.outbox.worker import run_worker
from shared.settings import Settings
from tests.conftest import Clock
from tests.factories import committed_agent
from tests.notifications.conftest import MailRecorder, StartSmtp, book, manage_token, with_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AGENT_EMAIL = "grace@example.com"
INVITEE_EMAIL = "ada@example.com"
# Tuesday 15:00 in Warsaw = 13:00 UTC; the suite's clock stands at Monday 06:00 UTC.
START = "2026-06-02T15:00:00+02:00"
START_UTC = dt.datetime(2026, 6, 2, 13, 0, tzinfo=dt.UTC)
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
SECOND = dt.timedelta(seconds=1)


def _agent(db: sessionmaker[Session], **overrides: Any) -> tuple[str, dict[str, int]]:
    _, link, types = committed_agent(
        db,
        name="Grace Hopper",
        email=AGENT_EMAIL,
        timezone="America/New_York",
        reminder_minutes=[1440, 60],
        **overrides,
    )
    return link, types


def _run_at(settings: Settings, moment: dt.datetime) -> int:
    return run_worker(settings, handlers=job_handlers(), once=True, clock=lambda: moment)


def _reminders(recorder: MailRecorder) -> list[str]:
    return [
        str(mail.message["Subject"]) for mail in recorder.to(INVITEE_EMAIL) if "Reminder" in mail.message["Subject"]
    ]


def _reminder_jobs(db: sessionmaker[Session]) -> list[tuple[str, int, int, dt.datetime]]:
    with session_scope(db) as session:
        jobs = session.scalars(select(OutboxJob).where(OutboxJob.kind == REMINDER_JOB).order_by(OutboxJob.id))
        return [(j.status, j.payload["minutes"], j.payload["sequence"], j.next_attempt_at) for j in jobs]


def test_each_reminder_arrives_at_its_time_and_once(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("plain")
    mail = with_settings(settings, smtp_url=server.url)
    link, types = _agent(db)
    created = book(client, link, types["Demo"], START)
    assert [(s, m) for s, m, _, _ in _reminder_jobs(db)] == [("pending", 1440), ("pending", 60)]

    assert _run_at(mail, START_UTC - DAY - SECOND) == 2  # the two confirmations; no reminder yet
    assert _reminders(server.recorder) == []
    assert _run_at(mail, START_UTC - DAY) == 1
    assert _reminders(server.recorder) == ["Reminder: Demo with Grace Hopper"]
    assert _run_at(mail, START_UTC - HOUR - SECOND) == 0  # nothing twice
    assert _run_at(mail, START_UTC - HOUR) == 1
    assert _run_at(mail, START_UTC - HOUR + 10 * SECOND) == 0
    assert len(_reminders(server.recorder)) == 2

    reminder = [m for m in server.recorder.to(INVITEE_EMAIL) if "Reminder" in m.message["Subject"]][0]
    text = reminder.part("text/plain")
    assert "Tuesday, 2 June 2026, 15:00–15:30 (Europe/Warsaw, UTC+02:00)" in text  # the invitee's zone
    assert created["manage_url"] in text
    assert f'href="{created["manage_url"]}"' in reminder.part("text/html")
    assert reminder.message["Reply-To"] == AGENT_EMAIL
    assert server.recorder.to(AGENT_EMAIL)[0].message["Subject"].startswith("New call scheduled")
    assert len(server.recorder.to(AGENT_EMAIL)) == 1  # the agent gets no reminder
    assert {s for s, _, _, _ in _reminder_jobs(db)} == {"done"}


def test_a_reminder_whose_time_had_passed_at_booking_is_never_planned(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    link, types = _agent(db)
    # Monday 15:00 Warsaw = 13:00 UTC, seven hours after the clock: a day before is already past.
    book(client, link, types["Demo"], "2026-06-01T15:00:00+02:00")
    assert [(m, at) for _, m, _, at in _reminder_jobs(db)] == [(60, dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC))]


def test_no_reminder_for_a_cancelled_booking(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("plain")
    mail = with_settings(settings, smtp_url=server.url)
    link, types = _agent(db)
    token = manage_token(book(client, link, types["Demo"], START))
    assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 200
    assert _reminder_jobs(db) == []  # dropped with the cancel
    for moment in (START_UTC - DAY, START_UTC - HOUR, START_UTC - SECOND):
        _run_at(mail, moment)
    assert _reminders(server.recorder) == []


def test_a_reminder_claimed_before_the_cancel_sends_nothing(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp, clock: Clock
) -> None:
    server = start_smtp("plain")
    mail = with_settings(settings, smtp_url=server.url)
    link, types = _agent(db)
    token = manage_token(book(client, link, types["Demo"], START))
    with session_scope(db) as session:  # as if a worker had taken it already: not dropped by the cancel
        for job in session.scalars(select(OutboxJob).where(OutboxJob.kind == REMINDER_JOB)):
            job.status = "running"
            job.locked_until = START_UTC - 2 * DAY
    assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 200
    assert len(_reminder_jobs(db)) == 2
    _run_at(mail, START_UTC - HOUR)  # the leases are long gone: the jobs run, and find the booking cancelled
    assert _reminders(server.recorder) == []
    assert {s for s, _, _, _ in _reminder_jobs(db)} == {"done"}


def test_reschedule_moves_the_reminders(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("plain")
    mail = with_settings(settings, smtp_url=server.url)
    link, types = _agent(db)
    token = manage_token(book(client, link, types["Demo"], START))
    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-03T16:00:00+02:00"})
    assert moved.status_code == 200, moved.text
    new_start = dt.datetime(2026, 6, 3, 14, 0, tzinfo=dt.UTC)
    assert _reminder_jobs(db) == [("pending", 1440, 1, new_start - DAY), ("pending", 60, 1, new_start - HOUR)]

    _run_at(mail, START_UTC - HOUR)  # the old reminder times: nothing
    assert _reminders(server.recorder) == []
    _run_at(mail, new_start - HOUR)
    reminders = [m for m in server.recorder.to(INVITEE_EMAIL) if "Reminder" in m.message["Subject"]]
    assert len(reminders) == 2
    assert "Wednesday, 3 June 2026, 16:00–16:30" in reminders[0].part("text/plain")


def test_meeting_types_that_remind_no_one_plan_no_reminders(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)  # reminder_minutes = []: as types made before reminders existed
    book(client, link, types["Demo"], START)
    assert _reminder_jobs(db) == []


# --- a worker process killed while it sends a reminder ----------------------------------------


class HoldingRecorder(MailRecorder):
    """Holds the first reminder's DATA until released, then answers 451 (not accepted), as a server
    does for a client that vanished before the end of the exchange."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        if not self.held and b"Subject: Reminder" in envelope.content:
            self.held = True
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 connection lost"
        return await super().handle_DATA(server, session, envelope)


def _wait(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def _worker(settings: Settings, log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SMTP_URL": settings.smtp_url or "",
        "MEETINGS_ENV": "test",
        "MEETINGS_BASE_URL": settings.base_url,
        "MEETINGS_SECRET_KEY": settings.secret_key,
        "MEETINGS_ADMIN_TOKEN": settings.admin_token,
        "MEETINGS_WORKER_LEASE_SECONDS": "3",
        "MEETINGS_WORKER_POLL_SECONDS": "0.1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "meetings.cli", "worker", *args], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.mark.timeout(120)
def test_a_reminder_arrives_once_when_the_worker_sending_it_is_killed(
    client: TestClient,
    db: sessionmaker[Session],
    settings: Settings,
    start_smtp: StartSmtp,
    clock: Clock,
    tmp_path: Path,
) -> None:
    server = start_smtp("plain", recorder=HoldingRecorder())
    recorder = server.recorder
    assert isinstance(recorder, HoldingRecorder)
    mail = with_settings(settings, smtp_url=server.url)
    # Worker processes run on the real clock: book a call tomorrow (real time) with a reminder two
    # days before it, booked yesterday, so the reminder is due now and the call still ahead.
    real_now = utcnow()
    clock.now = real_now - DAY
    start = (real_now + DAY).replace(second=0, microsecond=0)
    start += dt.timedelta(minutes=(30 - start.minute % 30) % 30)
    all_day = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    _, link, types = committed_agent(
        db, email=AGENT_EMAIL, timezone="Europe/Warsaw", weekly=all_day, min_notice_minutes=0, reminder_minutes=[2880]
    )
    created = book(client, link, types["Demo"], start.isoformat())

    with _worker(mail, tmp_path / "first.log") as first:
        _wait(recorder.holding.is_set, timeout=60, what="the first worker to send the reminder")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    recorder.release.set()
    assert _reminders(recorder) == []
    [(status, _, _, _)] = _reminder_jobs(db)
    assert status == "running"  # the dead worker's lease still holds it

    time.sleep(3.5)  # the lease (3 s) runs out
    with _worker(mail, tmp_path / "second.log", "--once") as second:
        assert second.wait(timeout=60) == 0, (tmp_path / "second.log").read_text()
    with _worker(mail, tmp_path / "third.log", "--once") as third:  # and nothing is left to send again
        assert third.wait(timeout=60) == 0, (tmp_path / "third.log").read_text()

    [subject] = _reminders(recorder)
    assert subject.startswith("Reminder: Demo with Agent")
    [received] = [m for m in recorder.to(INVITEE_EMAIL) if m.message["Subject"] == subject]
    assert created["manage_url"] in received.part("text/plain")
    assert [s for s, _, _, _ in _reminder_jobs(db)] == ["done"]
    with session_scope(db) as session:
        rows = session.scalars(select(EmailMessage).where(EmailMessage.subject.startswith("Reminder"))).all()
        assert len(rows) == 1
        assert rows[0].sent_at is not None


def test_the_reminder_says_where_and_how_to_join_in_the_invitee_language(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("plain")
    mail = with_settings(settings, smtp_url=server.url)
    link, types = _agent(db)
    with session_scope(db) as session:
        meeting_type = session.get(MeetingType, types["Demo"])
        assert meeting_type is not None
        meeting_type.location_kind, meeting_type.location_value = "link", "https://zoom.example/j/42?pwd=<x>"
        in_person = session.get(MeetingType, types["Onboarding"])
        assert in_person is not None
        in_person.location_kind, in_person.location_value = "in_person", "Hauptstraße 1 <Hof>, Berlin"
    book(client, link, types["Demo"], START, locale="de")
    book(client, link, types["Onboarding"], "2026-06-02T17:00:00+02:00", locale="de", email="bo@example.com")
    _run_at(mail, START_UTC - HOUR)

    zoom, _ = [m for m in server.recorder.to(INVITEE_EMAIL) if m.message["Subject"].startswith("Erinnerung")]
    text, html = zoom.part("text/plain"), zoom.part("text/html")
    assert "Teilnehmen: https://zoom.example/j/42?pwd=<x>" in text
    assert 'href="https://zoom.example/j/42?pwd=&lt;x&gt;"' in html  # escaped in HTML
    assert "Dienstag, 2. Juni 2026, 15:00–15:30" in text
    [visit] = [m for m in server.recorder.to("bo@example.com") if m.message["Subject"].startswith("Erinnerung")]
    assert "Wo:    Hauptstraße 1 <Hof>, Berlin" in visit.part("text/plain")
    assert "Hauptstraße 1 &lt;Hof&gt;, Berlin" in visit.part("text/html")

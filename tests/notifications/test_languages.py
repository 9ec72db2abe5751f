"""Five languages (SPEC §14): the booking's `locale` picks the language of the invitee's emails and
manage page, with dates written for it; the agent's own `locale` that of the agent's emails."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.db import session_scope
from shared.locales import LOCALES, resolve_locale
from shared.models import Agent, Booking
from shared.notifications.i18n import CATALOG, EN, format_when
from shared.outbox.worker import run_worker
from shared.settings import Settings
from tests.factories import committed_agent
from tests.notifications.conftest import StartSmtp, book, manage_token, with_settings

ADMIN = "/api/v1/admin"
AGENT_EMAIL = "grace@example.com"
INVITEE_EMAIL = "ada@example.com"
START = "2026-06-02T15:00:00+02:00"
START_UTC = dt.datetime(2026, 6, 2, 13, 0, tzinfo=dt.UTC)
ENGLISH_WORDS = ("Hi Ada", "Cancel or reschedule", "What:", "When:", "Times are in", "Sent by Meetings", "Tuesday")


def _run_at(settings: Settings, moment: dt.datetime) -> int:
    return run_worker(settings, handlers=job_handlers(), once=True, clock=lambda: moment)


def test_every_language_has_every_message() -> None:
    assert set(CATALOG) == set(LOCALES)
    for locale, messages in CATALOG.items():
        assert set(messages) == set(EN), locale
        for key, text in messages.items():  # the same placeholders as English
            assert sorted(part.split("}")[0] for part in text.split("{")[1:]) == sorted(
                part.split("}")[0] for part in EN[key].split("{")[1:]
            ), (locale, key)


@pytest.mark.parametrize(
    ("requested", "resolved"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("PL", "pl"),
        ("fr_CA", "fr"),
        ("es-419", "es"),
        ("xx", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_a_requested_locale_resolves_to_a_supported_language(requested: str | None, resolved: str) -> None:
    assert resolve_locale(requested) == resolved


def test_dates_are_written_for_the_language() -> None:
    end = START_UTC + dt.timedelta(minutes=30)
    assert format_when(START_UTC, end, "Europe/Berlin", "en") == (
        "Tuesday, 2 June 2026, 15:00–15:30 (Europe/Berlin, UTC+02:00)"
    )
    assert format_when(START_UTC, end, "Europe/Berlin", "de").startswith("Dienstag, 2. Juni 2026, 15:00–15:30")
    assert format_when(START_UTC, end, "Europe/Warsaw", "pl").startswith("wtorek, 2 czerwca 2026, 15:00–15:30")
    assert format_when(START_UTC, end, "Europe/Paris", "fr").startswith("mardi 2 juin 2026, 15:00–15:30")
    assert format_when(START_UTC, end, "Europe/Madrid", "es").startswith("martes, 2 de junio de 2026, 15:00–15:30")


def _locale_of(db: sessionmaker[Session], created: dict[str, Any]) -> str:
    with session_scope(db) as session:
        booking = session.get(Booking, created["id"])
        assert booking is not None
        return booking.locale


@pytest.mark.parametrize(("sent", "stored"), [("de", "de"), ("de-CH", "de"), ("klingon", "en"), (None, "en")])
def test_the_booking_keeps_the_language_it_was_made_in_and_never_refuses_one(
    client: TestClient, db: sessionmaker[Session], sent: str | None, stored: str
) -> None:
    _, link, types = committed_agent(db)
    extra = {} if sent is None else {"locale": sent}
    created = book(client, link, types["Demo"], START, **extra)
    assert _locale_of(db, created) == stored
    assert client.get(f"/api/v1/bookings/{manage_token(created)}").json()["locale"] == stored


def test_a_german_booking_reads_german_in_every_email_and_on_the_manage_page(
    client: TestClient, db: sessionmaker[Session], settings: Settings, start_smtp: StartSmtp
) -> None:
    server = start_smtp("plain")
    mail = with_settings(settings, smtp_url=server.url)
    _, link, types = committed_agent(
        db, name="Grace Hopper", email=AGENT_EMAIL, timezone="America/New_York", reminder_minutes=[60]
    )
    created = book(client, link, types["Demo"], START, locale="de", timezone="Europe/Berlin")
    token = manage_token(created)
    _run_at(mail, START_UTC - dt.timedelta(days=1))
    page = client.get(f"/manage/{token}")
    assert '<html lang="de">' in page.text
    for word in ("Bestätigt", "Verschieben", "Buchung absagen", "Dienstag, 2. Juni 2026, 15:00–15:30", "Juni 2026"):
        assert word in page.text, word
    assert "Reschedule" not in page.text

    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-03T16:00:00+02:00"})
    assert moved.status_code == 200, moved.text
    _run_at(mail, START_UTC)
    _run_at(mail, dt.datetime(2026, 6, 3, 13, 0, tzinfo=dt.UTC))  # the reminder, an hour before
    assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 200
    _run_at(mail, dt.datetime(2026, 6, 3, 13, 30, tzinfo=dt.UTC))
    assert "Ihre Buchung ist abgesagt" in client.get(f"/manage/{token}?done=cancelled").text

    received = server.recorder.to(INVITEE_EMAIL)
    assert [m.message["Subject"] for m in received] == [
        "Bestätigt: Demo mit Grace Hopper",
        "Verschoben: Demo mit Grace Hopper",
        "Erinnerung: Demo mit Grace Hopper",
        "Abgesagt: Demo mit Grace Hopper",
    ]
    for message in received:
        text, html = message.part("text/plain"), message.part("text/html")
        assert text.startswith("Hallo Ada,")
        assert '<html lang="de">' in html
        assert "Gesendet von Meetings." in text
        assert "Mittwoch, 3. Juni 2026" in text or "Dienstag, 2. Juni 2026" in text
        for word in ENGLISH_WORDS:
            assert word not in text, (message.message["Subject"], word)
            assert word not in html, (message.message["Subject"], word)
    # The agent set no language: English, in the agent's zone.
    agent_subjects = [m.message["Subject"] for m in server.recorder.to(AGENT_EMAIL)]
    assert agent_subjects == [
        "New call scheduled: Demo with Ada Lovelace",
        "Call rescheduled: Demo with Ada Lovelace",
        "Call cancelled: Demo with Ada Lovelace",
    ]


def test_the_agent_gets_emails_in_the_agent_locale(
    client: TestClient,
    db: sessionmaker[Session],
    settings: Settings,
    start_smtp: StartSmtp,
    admin_headers: dict[str, str],
) -> None:
    server = start_smtp("plain")
    agent_id, link, types = committed_agent(db, name="Grace Hopper", email=AGENT_EMAIL, timezone="Europe/Warsaw")
    patched = client.patch(f"{ADMIN}/agents/{agent_id}", json={"locale": "pl"}, headers=admin_headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["locale"] == "pl"
    book(client, link, types["Demo"], START, locale="fr")
    _run_at(with_settings(settings, smtp_url=server.url), START_UTC - dt.timedelta(days=1))
    [to_agent] = server.recorder.to(AGENT_EMAIL)
    assert to_agent.message["Subject"] == "Nowa rozmowa: Demo z Ada Lovelace"
    assert "wtorek, 2 czerwca 2026, 15:00–15:30 (Europe/Warsaw, UTC+02:00)" in to_agent.part("text/plain")
    [to_invitee] = server.recorder.to(INVITEE_EMAIL)
    assert to_invitee.message["Subject"] == "Confirmé : Demo avec Grace Hopper"
    assert "mardi 2 juin 2026" in to_invitee.part("text/plain")


def test_agent_locale_in_the_admin_api(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    created = client.post(
        f"{ADMIN}/agents",
        json={"name": "Ana", "email": "ana@example.com", "timezone": "Europe/Madrid", "locale": "es"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["locale"] == "es"
    listed = client.get(f"{ADMIN}/agents", headers=admin_headers).json()
    assert [a["locale"] for a in listed if a["email"] == "ana@example.com"] == ["es"]
    agent_id = created.json()["id"]
    for bad in ("xx", "de-AT", None, 3, ""):
        refused = client.patch(f"{ADMIN}/agents/{agent_id}", json={"locale": bad}, headers=admin_headers)
        assert refused.status_code == 422, (bad, refused.text)
    refused = client.post(
        f"{ADMIN}/agents",
        json={"name": "Bo", "email": "bo@example.com", "timezone": "Europe/Madrid", "locale": "klingon"},
        headers=admin_headers,
    )
    assert refused.status_code == 422
    assert "locale must be one of en, pl, de, fr, es" in refused.text
    with session_scope(db) as session:
        assert session.scalar(select(Agent.locale).where(Agent.id == agent_id)) == "es"
        assert session.scalar(select(Agent.id).where(Agent.email == "bo@example.com")) is None

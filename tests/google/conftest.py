"""Fixtures for the Google Calendar tests: the stand-in server and the app pointed at it.

The product's Google code runs unmodified; only GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI and
GOOGLE_API_ENDPOINT are pointed at the stand-in on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.calendars.google.tokens import StoredTokens, decrypt_tokens
from shared.db import session_scope
from shared.models import CalendarConnection, OutboxJob, utcnow
from shared.models.outbox import JOB_PENDING, JOB_RUNNING
from shared.outbox.worker import run_worker
from shared.settings import Settings
from tests.conftest import Clock
from tests.factories import committed_agent
from tests.google.standin import GoogleStandIn

REDIRECT_URI = "http://testserver/oauth/google/callback"
DASHBOARD_URL = "http://dashboard.example"
# Tuesday 2026-06-02 in Warsaw (CEST, UTC+2): the default Mon–Fri 09:00–17:00 window.
TUESDAY = "2026-06-02"


@pytest.fixture
def standin() -> Iterator[GoogleStandIn]:
    server = GoogleStandIn().start()
    server.redirect_uris.add(REDIRECT_URI)
    yield server
    server.stop()


@pytest.fixture
def google_settings(settings: Settings, standin: GoogleStandIn) -> Settings:
    return settings.model_copy(
        update={
            "google_client_id": standin.client_id,
            "google_client_secret": standin.client_secret,
            "google_redirect_uri": REDIRECT_URI,
            "google_auth_uri": standin.auth_uri,
            "google_token_uri": standin.token_uri,
            "google_api_endpoint": standin.api_endpoint,
            "dashboard_url": DASHBOARD_URL,
        }
    )


@pytest.fixture
def google_client(google_settings: Settings, clock: Clock) -> Iterator[TestClient]:
    """The app exactly as `create_app` wires it when Google is configured (Google busy source included)."""
    from widget_api.app import create_app

    with TestClient(create_app(google_settings, clock=clock)) as client:
        yield client


def consent(client: TestClient, agent_id: int, admin_headers: dict[str, str]) -> str:
    """Start connecting and let the stand-in's consent screen answer: the callback URL it sends back."""
    start = client.get(
        f"/api/v1/admin/agents/{agent_id}/calendar/google/connect", headers=admin_headers, follow_redirects=False
    )
    assert start.status_code == 302, start.text
    at_google = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_google.status_code == 302, at_google.text
    callback: str = at_google.headers["location"]
    assert callback.startswith(REDIRECT_URI)
    return callback


def connect(client: TestClient, agent_id: int, admin_headers: dict[str, str]) -> httpx.Response:
    response = client.get(consent(client, agent_id, admin_headers), follow_redirects=False)
    assert response.status_code == 302, response.text
    assert response.headers["location"].endswith(f"/settings?calendar=connected&agent_id={agent_id}")
    return response


@dataclass
class ConnectedAgent:
    id: int
    link: str
    types: dict[str, int]


@pytest.fixture
def connected_agent(
    google_client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> ConnectedAgent:
    agent_id, link, types = committed_agent(db)
    connect(google_client, agent_id, admin_headers)
    return ConnectedAgent(agent_id, link, types)


def booking_form(meeting_type_id: int, start: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meeting_type_id": meeting_type_id,
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical <Engines>",
        "email": "ada@example.com",
        "description": "Pricing <b>question</b>\nand a second line",
    }
    body.update(overrides)
    return body


def book(client: TestClient, agent: ConnectedAgent, start: str, meeting_type: str = "Demo") -> dict[str, Any]:
    response = client.post(f"/api/v1/links/{agent.link}/bookings", json=booking_form(agent.types[meeting_type], start))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def manage_token(booking: dict[str, Any]) -> str:
    return str(booking["manage_url"]).rsplit("/", 1)[-1]


def connection_of(db: sessionmaker[Session], agent_id: int) -> CalendarConnection:
    with session_scope(db) as session:
        connection = session.scalar(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id))
        assert connection is not None
        return connection


def stored_tokens(db: sessionmaker[Session], settings: Settings, agent_id: int) -> StoredTokens:
    connection = connection_of(db, agent_id)
    assert connection.encrypted_tokens is not None
    return decrypt_tokens(settings, connection.encrypted_tokens)


def calendar_jobs(db: sessionmaker[Session]) -> list[OutboxJob]:
    with session_scope(db) as session:
        return list(
            session.scalars(select(OutboxJob).where(OutboxJob.kind.like("calendar.google.%")).order_by(OutboxJob.id))
        )


@pytest.fixture
def worker_clock() -> Clock:
    """The worker's own clock: jobs are queued at the real time, which it starts from and then moves."""
    return Clock(utcnow())


def catch_up(worker_clock: Clock) -> None:
    """Jobs queued since are due: the worker's clock is never behind the real time."""
    worker_clock.now = max(worker_clock.now, utcnow())


def drain(settings: Settings, worker_clock: Clock, db: sessionmaker[Session], *, rounds: int = 8) -> int:
    """Run the real worker until no calendar job is pending; between rounds an hour passes (backoff)."""
    for round_number in range(rounds):
        catch_up(worker_clock)
        run_worker(settings, handlers=job_handlers(), once=True, clock=worker_clock)
        if not [j for j in calendar_jobs(db) if j.status in (JOB_PENDING, JOB_RUNNING)]:
            return round_number + 1
        worker_clock.advance(timedelta(hours=1))
    states = [(j.kind, j.status, j.attempts, j.last_error) for j in calendar_jobs(db)]
    raise AssertionError(f"calendar jobs still pending after {rounds} rounds: {states}")

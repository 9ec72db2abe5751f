"""Tokens: refreshed by themselves and saved, a revoked grant survived, never shown or logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.calendars.google.service import disconnect, get_connection
from shared.calendars.google.tokens import StoredTokens, encrypt_tokens
from shared.db import session_scope
from shared.models import OutboxJob, utcnow
from shared.models.outbox import JOB_DONE, JOB_PENDING, JOB_WAITING
from shared.settings import Settings
from tests.conftest import Clock
from tests.google.conftest import (
    TUESDAY,
    ConnectedAgent,
    book,
    calendar_jobs,
    connect,
    connection_of,
    drain,
    stored_tokens,
)
from tests.google.standin import GoogleStandIn


def _slots(client: TestClient, agent: ConnectedAgent) -> list[str]:
    response = client.get(
        f"/api/v1/links/{agent.link}/slots",
        params={"meeting_type_id": agent.types["Demo"], "date": TUESDAY, "tz": "Europe/Warsaw"},
    )
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"]]


def _notices(db: sessionmaker[Session]) -> list[OutboxJob]:
    with session_scope(db) as session:
        return list(session.scalars(select(OutboxJob).where(OutboxJob.kind == "email.agent_notice")))


def test_an_expired_access_token_is_refreshed_and_the_new_one_saved(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
) -> None:
    before = stored_tokens(db, google_settings, connected_agent.id)
    standin.expire_access_tokens()

    assert len(_slots(google_client, connected_agent)) == 16

    assert standin.refresh_count() == 1
    after = stored_tokens(db, google_settings, connected_agent.id)
    assert after.access_token != before.access_token
    assert after.access_token in standin.access_tokens
    assert after.refresh_token == before.refresh_token
    # The saved token is the one used next: booking (a fresh freeBusy) needs no second refresh.
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    assert standin.refresh_count() == 1

    # The worker refreshes (and saves) too.
    standin.expire_access_tokens()
    drain(google_settings, worker_clock, db)
    assert len(standin.live_events()) == 1
    assert standin.refresh_count() == 2
    assert stored_tokens(db, google_settings, connected_agent.id).access_token not in (
        before.access_token,
        after.access_token,
    )


def test_a_token_known_to_be_expired_is_refreshed_before_calling_google(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    db: sessionmaker[Session],
) -> None:
    tokens = stored_tokens(db, google_settings, connected_agent.id)
    with session_scope(db) as session:
        connection = get_connection(session, agent_id=connected_agent.id)
        assert connection is not None
        connection.encrypted_tokens = encrypt_tokens(
            google_settings,
            StoredTokens(tokens.access_token, tokens.refresh_token, expiry=utcnow() - timedelta(minutes=1)),
        )

    _slots(google_client, connected_agent)

    assert standin.refresh_count() == 1
    assert standin.calls_to("freebusy.query:unauthenticated") == []
    refreshed = stored_tokens(db, google_settings, connected_agent.id)
    assert refreshed.expiry is not None
    assert refreshed.expiry > utcnow() + timedelta(minutes=50)


def test_a_revoked_grant_marks_needs_reconnect_and_the_product_keeps_working_until_reconnected(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
) -> None:
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    drain(google_settings, worker_clock, db)
    assert len(standin.live_events()) == 1
    standin.revoke_all_grants()  # the agent removed Meetings from their Google account

    # The public API still answers, from local bookings alone.
    starts = _slots(google_client, connected_agent)
    assert len(starts) == 15
    assert "2026-06-02T09:00:00+02:00" not in starts

    connection = connection_of(db, connected_agent.id)
    assert connection.status == "needs_reconnect"
    assert connection.last_error is not None
    assert "invalid_grant" in connection.last_error
    (notice,) = _notices(db)
    assert notice.agent_id == connected_agent.id
    assert notice.payload["agent_id"] == connected_agent.id
    assert notice.payload["template"] == "calendar_reconnect"
    assert "invalid_grant" in notice.payload["context"]["error"]
    # Shown to the dashboard / admin API.
    (listed,) = [
        a
        for a in google_client.get("/api/v1/admin/agents", headers=admin_headers).json()
        if a["id"] == connected_agent.id
    ]
    assert listed["calendar"]["status"] == "needs_reconnect"
    assert "invalid_grant" in listed["calendar"]["last_error"]

    # Booking still works; its calendar write waits for the agent instead of failing.
    refreshes = standin.refresh_count()
    second = book(google_client, connected_agent, "2026-06-02T11:00:00+02:00")
    _slots(google_client, connected_agent)
    assert standin.refresh_count() == refreshes  # Google is left alone until the agent reconnects
    drain(google_settings, worker_clock, db)
    parked = calendar_jobs(db)[-1]
    assert (parked.booking_id, parked.status) == (second["id"], JOB_WAITING)
    assert len(standin.live_events()) == 1
    assert len(_notices(db)) == 1  # told once

    connect(google_client, connected_agent.id, admin_headers)
    assert connection_of(db, connected_agent.id).status == "connected"
    assert connection_of(db, connected_agent.id).last_error is None
    assert calendar_jobs(db)[-1].status == JOB_PENDING
    drain(google_settings, worker_clock, db)

    assert all(job.status == JOB_DONE for job in calendar_jobs(db))
    assert len(standin.live_events()) == 2  # the booking made while disconnected reached the calendar


def test_a_grant_revoked_while_a_job_waits_parks_it_and_it_runs_after_reconnecting(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
) -> None:
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    standin.revoke_all_grants()

    drain(google_settings, worker_clock, db)

    (job,) = calendar_jobs(db)
    assert job.status == JOB_WAITING
    assert job.last_error is not None
    assert "reconnect" in job.last_error
    assert connection_of(db, connected_agent.id).status == "needs_reconnect"
    assert len(_notices(db)) == 1
    assert standin.live_events() == {}

    connect(google_client, connected_agent.id, admin_headers)
    drain(google_settings, worker_clock, db)

    (job,) = calendar_jobs(db)
    assert job.status == JOB_DONE
    assert len(standin.live_events()) == 1


def test_disconnect_revokes_the_grant_and_deletes_the_tokens(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    db: sessionmaker[Session],
) -> None:
    refresh_token = stored_tokens(db, google_settings, connected_agent.id).refresh_token

    with session_scope(db) as session:
        disconnect(session, agent_id=connected_agent.id, settings=google_settings)

    connection = connection_of(db, connected_agent.id)
    assert (connection.status, connection.encrypted_tokens) == ("disconnected", None)
    assert standin.refresh_tokens[refresh_token]["revoked"] is True
    # Nothing more goes to Google for this agent.
    assert len(_slots(google_client, connected_agent)) == 16
    assert standin.calls_to("freebusy.query") == []
    book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    assert calendar_jobs(db) == []


def test_tokens_never_appear_in_logs_or_api_responses(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    connected_agent: ConnectedAgent,
    worker_clock: Clock,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    # Everything that talks to Google: connect again, refresh, busy times, events, a revoked grant.
    shown.append(connect(google_client, connected_agent.id, admin_headers).headers["location"])
    standin.expire_access_tokens()
    _slots(google_client, connected_agent)
    created = book(google_client, connected_agent, "2026-06-02T09:00:00+02:00")
    shown.append(str(created))
    drain(google_settings, worker_clock, db)
    standin.revoke_all_grants()
    _slots(google_client, connected_agent)
    shown.append(google_client.get("/api/v1/admin/agents", headers=admin_headers).text)
    shown.append(google_client.get(f"/api/v1/bookings/{created['manage_url'].rsplit('/', 1)[-1]}").text)
    with session_scope(db) as session:
        shown.extend(str(e) for e in session.scalars(select(OutboxJob.last_error)))
    shown.append(str(connection_of(db, connected_agent.id).last_error))

    secrets = [*standin.issued_secrets(), standin.client_secret]
    assert len(secrets) >= 6
    assert any("ya29.standin-access-" in s for s in secrets)
    logged = caplog.text
    assert "refresh" in logged.lower() or "token" in logged.lower()  # the flow did log
    for secret in secrets:
        assert secret not in logged
        for text in shown:
            assert secret not in text

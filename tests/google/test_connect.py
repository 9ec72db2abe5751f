"""Connecting Google Calendar: the OAuth web-server flow with state and PKCE, against the stand-in."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.calendars.google.oauth import SCOPES
from shared.db import session_scope
from shared.models import CalendarConnection, OAuthState
from shared.settings import Settings
from tests.conftest import Clock
from tests.factories import committed_agent
from tests.google.conftest import DASHBOARD_URL, REDIRECT_URI, connection_of, consent, stored_tokens
from tests.google.standin import GoogleStandIn


def _connections(db: sessionmaker[Session]) -> int:
    with session_scope(db) as session:
        return session.scalar(select(func.count()).select_from(CalendarConnection)) or 0


def test_full_connect_flow_with_pkce_stores_encrypted_tokens(
    google_client: TestClient,
    google_settings: Settings,
    standin: GoogleStandIn,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
) -> None:
    agent_id, _, _ = committed_agent(db, email="ada.agent@example.com")

    start = google_client.get(
        f"/api/v1/admin/agents/{agent_id}/calendar/google/connect", headers=admin_headers, follow_redirects=False
    )
    assert start.status_code == 302
    consent_url = urlsplit(start.headers["location"])
    assert f"{consent_url.scheme}://{consent_url.netloc}{consent_url.path}" == standin.auth_uri
    asked = {k: v[0] for k, v in parse_qs(consent_url.query).items()}
    assert asked["client_id"] == standin.client_id
    assert asked["redirect_uri"] == REDIRECT_URI
    assert asked["response_type"] == "code"
    assert asked["access_type"] == "offline"
    assert asked["prompt"] == "consent"
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43
    assert asked["scope"].split() == SCOPES
    assert asked["login_hint"] == "ada.agent@example.com"
    assert "code_verifier" not in asked

    at_google = httpx.get(start.headers["location"], follow_redirects=False)
    back = google_client.get(at_google.headers["location"], follow_redirects=False)

    assert back.status_code == 302
    assert back.headers["location"] == f"{DASHBOARD_URL}/settings?calendar=connected&agent_id={agent_id}"
    # The stand-in checked the verifier against the challenge it was shown.
    (grant,) = standin.codes.values()
    assert grant["pkce_verified"] is True
    connection = connection_of(db, agent_id)
    assert connection.status == "connected"
    assert connection.account_email == standin.account_email
    assert connection.scopes == SCOPES
    assert connection.busy_calendar_ids == ["primary"]
    # Encrypted at rest: no issued token appears in the stored column, yet it decrypts to them.
    assert connection.encrypted_tokens is not None
    for secret in standin.issued_secrets():
        assert secret not in connection.encrypted_tokens
    tokens = stored_tokens(db, google_settings, agent_id)
    assert tokens.refresh_token in standin.refresh_tokens
    assert tokens.access_token in standin.access_tokens
    # The state is stored hashed and used up; the verifier is not stored in the clear.
    with session_scope(db) as session:
        (state_row,) = session.scalars(select(OAuthState)).all()
        assert state_row.state_hash != asked["state"]
        assert state_row.used_at is not None
        assert len(asked["code_challenge"]) < len(state_row.code_verifier)


def test_a_wrong_pkce_verifier_is_refused_by_the_token_endpoint(
    google_client: TestClient, standin: GoogleStandIn, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    callback = consent(google_client, agent_id, admin_headers)
    # Someone swaps the challenge Google saw: the product's verifier no longer matches it.
    (grant,) = standin.codes.values()
    grant["challenge"] = "A" * 43

    back = google_client.get(callback, follow_redirects=False)

    assert back.status_code == 302
    assert "calendar=error" in back.headers["location"]
    assert "reason=token_exchange_failed" in back.headers["location"]
    assert grant.get("pkce_failed") is True
    assert _connections(db) == 0


def test_forged_state_is_refused_and_nothing_is_stored(
    google_client: TestClient, standin: GoogleStandIn, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    callback = consent(google_client, agent_id, admin_headers)
    code = parse_qs(urlsplit(callback).query)["code"][0]

    forged = google_client.get(
        "/oauth/google/callback", params={"state": "attacker-chosen-state", "code": code}, follow_redirects=False
    )

    assert forged.status_code == 400
    assert "unknown OAuth state" in forged.json()["detail"]
    assert _connections(db) == 0
    assert not standin.token_requests  # the code was never even exchanged


def test_replayed_state_is_refused_and_changes_nothing(
    google_client: TestClient, standin: GoogleStandIn, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    callback = consent(google_client, agent_id, admin_headers)
    assert google_client.get(callback, follow_redirects=False).status_code == 302
    stored_before = connection_of(db, agent_id).encrypted_tokens

    replay = google_client.get(callback, follow_redirects=False)

    assert replay.status_code == 400
    assert "already used" in replay.json()["detail"]
    assert connection_of(db, agent_id).encrypted_tokens == stored_before
    assert len(standin.token_requests) == 1


def test_expired_state_is_refused_and_nothing_is_stored(
    google_client: TestClient,
    standin: GoogleStandIn,
    clock: Clock,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
) -> None:
    agent_id, _, _ = committed_agent(db)
    callback = consent(google_client, agent_id, admin_headers)
    clock.advance(timedelta(minutes=10, seconds=1))

    late = google_client.get(callback, follow_redirects=False)

    assert late.status_code == 400
    assert "expired" in late.json()["detail"]
    assert _connections(db) == 0
    assert not standin.token_requests


def test_denied_consent_goes_back_to_the_dashboard_without_a_connection(
    google_client: TestClient, standin: GoogleStandIn, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    standin.consent = "deny"

    back = google_client.get(consent(google_client, agent_id, admin_headers), follow_redirects=False)

    assert back.status_code == 302
    expected = f"{DASHBOARD_URL}/settings?calendar=error&reason=access_denied&agent_id={agent_id}"
    assert back.headers["location"] == expected
    assert _connections(db) == 0


def test_unticked_permissions_are_refused_and_the_grant_revoked(
    google_client: TestClient, standin: GoogleStandIn, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    standin.granted_scopes = [SCOPES[1]]  # busy times only, no events

    back = google_client.get(consent(google_client, agent_id, admin_headers), follow_redirects=False)

    assert "reason=missing_permissions" in back.headers["location"]
    assert _connections(db) == 0
    assert all(grant["revoked"] for grant in standin.refresh_tokens.values())


def test_connect_needs_the_admin_token_and_a_known_agent(
    google_client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    assert (
        google_client.get(
            f"/api/v1/admin/agents/{agent_id}/calendar/google/connect", follow_redirects=False
        ).status_code
        == 401
    )
    assert (
        google_client.get(
            "/api/v1/admin/agents/999999/calendar/google/connect", headers=admin_headers, follow_redirects=False
        ).status_code
        == 404
    )


def test_without_google_configuration_connect_says_how_to_configure(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    response = client.get(
        f"/api/v1/admin/agents/{agent_id}/calendar/google/connect", headers=admin_headers, follow_redirects=False
    )
    assert response.status_code == 503
    assert response.json() == {
        "detail": (
            "Google Calendar is not configured: set GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REDIRECT_URI"
        )
    }


def test_plain_http_to_a_non_loopback_google_is_refused(
    google_settings: Settings, clock: Clock, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    from widget_api.app import create_app

    insecure = google_settings.model_copy(update={"google_token_uri": "http://oauth.example.test/token"})
    agent_id, _, _ = committed_agent(db)
    with TestClient(create_app(insecure, clock=clock)) as client:
        response = client.get(
            f"/api/v1/admin/agents/{agent_id}/calendar/google/connect", headers=admin_headers, follow_redirects=False
        )
    assert response.status_code == 503
    assert "GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI, GOOGLE_API_ENDPOINT must use https" in response.json()["detail"]

"""Connecting, using and disconnecting an agent's Google Calendar.

Service functions take the session first and flush; the caller commits. The only plaintext tokens
are in memory during a call to Google.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from google.oauth2.credentials import Credentials
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.agents.service import get_agent
from shared.calendars.base import CalendarInfo
from shared.calendars.google import oauth
from shared.calendars.google.client import GoogleCalendarClient
from shared.calendars.google.errors import GoogleCallError, GoogleNotConfigured, OAuthStateInvalid
from shared.calendars.google.tokens import (
    StoredTokens,
    TokensUnreadable,
    decrypt_secret,
    decrypt_tokens,
    encrypt_secret,
    encrypt_tokens,
)
from shared.errors import InvalidInput
from shared.models import CalendarConnection, OAuthState
from shared.models.calendar import STATUS_CONNECTED, STATUS_DISCONNECTED, STATUS_NEEDS_RECONNECT
from shared.notifications.planning import plan_agent_notice
from shared.outbox.service import resume_parked_jobs
from shared.settings import Settings

logger = logging.getLogger("meetings.google")

PROVIDER = "google"
STATE_LIFETIME = timedelta(minutes=10)
REVOKE_TIMEOUT_SECONDS = 10.0
# The notifications channel's agent notice ("email.agent_notice" job) telling the agent to reconnect.
CALENDAR_RECONNECT_NOTICE = "calendar_reconnect"


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def get_connection(session: Session, *, agent_id: int) -> CalendarConnection | None:
    return session.scalar(
        select(CalendarConnection).where(
            CalendarConnection.agent_id == agent_id, CalendarConnection.provider == PROVIDER
        )
    )


# --- connect --------------------------------------------------------------------------------------


def start_connect(session: Session, *, agent_id: int, settings: Settings, now: datetime) -> str:
    """Begin connecting an agent's Google Calendar: returns Google's consent URL to send them to.

    The `state` in the URL is bound to this agent, usable once, valid for 10 minutes, and stored
    only as a hash; the PKCE code verifier is stored encrypted beside it.
    """
    if not settings.google_configured:
        raise GoogleNotConfigured()
    oauth.require_secure_endpoints(settings)
    agent = get_agent(session, agent_id=agent_id)
    state = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set (RFC 7636: 43–128)
    session.execute(delete(OAuthState).where(OAuthState.expires_at < now - timedelta(days=1)))
    session.add(
        OAuthState(
            state_hash=_hash_state(state),
            agent_id=agent.id,
            code_verifier=encrypt_secret(settings, code_verifier),
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    session.flush()
    return oauth.consent_url(settings, state=state, code_verifier=code_verifier, login_hint=agent.email)


def _claim_state(session: Session, *, state: str, now: datetime) -> OAuthState:
    pending = session.get(OAuthState, _hash_state(state)) if state else None
    if pending is None:
        raise OAuthStateInvalid("unknown OAuth state: this consent was not started here (forged or mistyped link)")
    if pending.used_at is not None:
        raise OAuthStateInvalid("this OAuth state was already used; start connecting Google Calendar again")
    if pending.expires_at <= now:
        raise OAuthStateInvalid("this OAuth state expired (10 minutes); start connecting Google Calendar again")
    # Conditional on still unused, so two concurrent callbacks with one state cannot both pass.
    claimed = session.execute(
        update(OAuthState)
        .where(OAuthState.state_hash == pending.state_hash, OAuthState.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise OAuthStateInvalid("this OAuth state was already used; start connecting Google Calendar again")
    return pending


@dataclass(frozen=True)
class ConnectOutcome:
    agent_id: int
    connected: bool
    # Short machine-readable reason when not connected: access_denied, missing_permissions, …
    reason: str | None = None
    detail: str | None = None


def complete_connect(
    session: Session,
    *,
    state: str,
    code: str | None,
    error: str | None,
    settings: Settings,
    now: datetime,
) -> ConnectOutcome:
    """Finish the consent: check `state`, trade the code (with the PKCE verifier) for tokens, store them.

    Raises OAuthStateInvalid (nothing stored) for a forged, replayed or expired state. A valid state
    is used up even when the consent then fails (denied, scopes unticked, code refused); the
    outcome says why. Reconnecting resumes the agent's calendar jobs parked meanwhile.
    """
    if not settings.google_configured:
        raise GoogleNotConfigured()
    oauth.require_secure_endpoints(settings)
    pending = _claim_state(session, state=state, now=now)
    agent_id = pending.agent_id
    if error:
        return ConnectOutcome(agent_id, False, "access_denied" if error == "access_denied" else "consent_failed", error)
    if not code:
        return ConnectOutcome(agent_id, False, "consent_failed", "Google sent no authorization code")
    try:
        tokens, granted = oauth.exchange_code(
            settings, code=code, code_verifier=decrypt_secret(settings, pending.code_verifier)
        )
    except (GoogleCallError, TokensUnreadable) as failure:
        logger.warning("Google consent for agent %s failed: %s", agent_id, failure)
        return ConnectOutcome(agent_id, False, "token_exchange_failed", str(failure))
    missing = oauth.missing_permissions(granted)
    if missing:
        revoke_refresh_token(settings, tokens.refresh_token)
        return ConnectOutcome(agent_id, False, "missing_permissions", "allow Meetings to " + " and ".join(missing))

    account_email = _primary_calendar_id(settings, tokens, granted)
    connection = get_connection(session, agent_id=agent_id)
    if connection is None:
        connection = CalendarConnection(agent_id=agent_id, provider=PROVIDER)
        session.add(connection)
    elif account_email is None or connection.account_email != account_email:
        # Another Google account: the calendars picked for the old one may not exist here.
        connection.busy_calendar_ids = ["primary"]
        connection.destination_calendar_id = "primary"
    connection.account_email = account_email
    connection.encrypted_tokens = encrypt_tokens(settings, tokens)
    connection.scopes = granted
    connection.status = STATUS_CONNECTED
    connection.last_error = None
    connection.connected_at = now
    session.flush()
    resumed = resume_parked_jobs(session, agent_id=agent_id, now=now)
    logger.info("agent %s connected Google Calendar; %s parked jobs resumed", agent_id, resumed)
    return ConnectOutcome(agent_id, True)


def _primary_calendar_id(settings: Settings, tokens: StoredTokens, granted: list[str]) -> str | None:
    """The account's email: the id of its primary calendar (no extra profile scope needed)."""
    if not oauth.has_calendar_list_scope(granted):
        return None
    client = GoogleCalendarClient(settings, tokens.to_credentials(settings, granted))
    try:
        calendars = client.list_calendars()
    except GoogleCallError as failure:
        logger.warning("could not read the calendar list after consent: %s", failure)
        return None
    return next((c.id for c in calendars if c.primary), None)


# --- use --------------------------------------------------------------------------------------------


def usable_tokens(
    session: Session, *, connection: CalendarConnection, settings: Settings, now: datetime
) -> StoredTokens | None:
    """The decrypted tokens of a connected connection; None (and needs_reconnect) when unreadable."""
    if connection.status != STATUS_CONNECTED or not connection.encrypted_tokens:
        return None
    try:
        return decrypt_tokens(settings, connection.encrypted_tokens)
    except TokensUnreadable as failure:
        mark_needs_reconnect(session, connection=connection, reason=str(failure), now=now)
        return None


def credentials_for(connection: CalendarConnection, tokens: StoredTokens, settings: Settings) -> Credentials:
    return tokens.to_credentials(settings, list(connection.scopes or []))


def save_refreshed_tokens(
    session: Session,
    *,
    connection: CalendarConnection,
    before: StoredTokens,
    credentials: Credentials,
    settings: Settings,
) -> bool:
    """Store the access token google-auth refreshed during a call (if it did). True when saved."""
    if not credentials.token or credentials.token == before.access_token:
        return False
    refreshed = StoredTokens.from_credentials(credentials)
    connection.encrypted_tokens = encrypt_tokens(settings, refreshed)
    session.flush()
    return True


def mark_needs_reconnect(session: Session, *, connection: CalendarConnection, reason: str, now: datetime) -> None:
    """The grant is gone: stop using it, tell the agent once, keep the product answering without it."""
    was_connected = connection.status == STATUS_CONNECTED
    connection.status = STATUS_NEEDS_RECONNECT
    connection.last_error = reason
    if was_connected:
        episode = connection.connected_at.isoformat() if connection.connected_at else "first"
        plan_agent_notice(
            session,
            agent_id=connection.agent_id,
            template=CALENDAR_RECONNECT_NOTICE,
            context={"error": reason, "provider": PROVIDER, "account_email": connection.account_email},
            now=now,
            dedupe_key=f"notice:{CALENDAR_RECONNECT_NOTICE}:agent:{connection.agent_id}:{episode}",
        )
        logger.warning("agent %s: Google Calendar needs reconnecting: %s", connection.agent_id, reason)
    session.flush()


def list_calendars(session: Session, *, agent_id: int, settings: Settings, now: datetime) -> list[CalendarInfo]:
    """The agent's Google calendars, to choose busy calendars and the destination from."""
    connection = get_connection(session, agent_id=agent_id)
    if connection is None:
        return []
    tokens = usable_tokens(session, connection=connection, settings=settings, now=now)
    if tokens is None:
        return []
    client = GoogleCalendarClient(settings, credentials_for(connection, tokens, settings))
    try:
        return client.list_calendars()
    finally:
        save_refreshed_tokens(
            session, connection=connection, before=tokens, credentials=client.credentials, settings=settings
        )


def choose_calendars(
    session: Session, *, agent_id: int, busy_calendar_ids: list[str], destination_calendar_id: str
) -> CalendarConnection:
    """Pick the calendars read for busy times and the one booking events are written to."""
    connection = get_connection(session, agent_id=agent_id)
    if connection is None:
        raise InvalidInput("connect Google Calendar first")
    cleaned = [c.strip() for c in busy_calendar_ids if c.strip()]
    if not cleaned or not destination_calendar_id.strip():
        raise InvalidInput("choose at least one busy calendar and a destination calendar")
    connection.busy_calendar_ids = list(dict.fromkeys(cleaned))
    connection.destination_calendar_id = destination_calendar_id.strip()
    session.flush()
    return connection


# --- disconnect -------------------------------------------------------------------------------------


def revoke_uri(settings: Settings) -> str:
    """Google's revocation endpoint beside its token endpoint (…/token → …/revoke)."""
    base, _, last = settings.google_token_uri.rstrip("/").rpartition("/")
    return f"{base}/revoke" if last == "token" else f"{settings.google_token_uri.rstrip('/')}/revoke"


def revoke_refresh_token(settings: Settings, refresh_token: str) -> bool:
    """Ask Google to revoke the grant. Best effort: False (logged, without the token) when it could not."""
    request = urllib.request.Request(
        revoke_uri(settings),
        data=urllib.parse.urlencode({"token": refresh_token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=REVOKE_TIMEOUT_SECONDS) as response:  # noqa: S310 - configured URL
            status: int = response.status
            return 200 <= status < 300
    except urllib.error.HTTPError as error:
        logger.warning("Google token revocation answered HTTP %s", error.code)
    except (urllib.error.URLError, OSError) as error:
        logger.warning("Google token revocation failed: %s", type(error).__name__)
    return False


def disconnect(session: Session, *, agent_id: int, settings: Settings) -> CalendarConnection | None:
    """Disconnect an agent's Google Calendar: revoke the grant at Google where possible, delete the tokens.

    The row stays with status `disconnected` (the dashboard shows it); no calendar jobs are planned
    for the agent until they connect again. Returns None when nothing was connected.
    """
    connection = get_connection(session, agent_id=agent_id)
    if connection is None:
        return None
    if connection.encrypted_tokens:
        try:
            tokens = decrypt_tokens(settings, connection.encrypted_tokens)
        except TokensUnreadable:
            tokens = None
        if tokens is not None:
            revoke_refresh_token(settings, tokens.refresh_token)
    connection.encrypted_tokens = None
    connection.scopes = []
    connection.status = STATUS_DISCONNECTED
    connection.last_error = None
    session.flush()
    return connection

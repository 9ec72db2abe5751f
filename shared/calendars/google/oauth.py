"""Google's OAuth web-server flow through google-auth-oauthlib: consent URL and code exchange.

PKCE (S256) on every consent, `access_type=offline` for a refresh token and `prompt=consent` so
Google issues one again on every reconnect. `state` is chosen and checked by the caller
(shared.calendars.google.service), never by the library, so it can be bound to an agent and
stored hashed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2 import OAuth2Error

from shared.calendars.google.errors import (
    GoogleEndpointInsecure,
    GoogleRequestRejected,
    GoogleTemporarilyUnavailable,
)
from shared.calendars.google.tokens import StoredTokens
from shared.settings import Settings

# Least privilege (docs/google.md explains each): write events only on calendars the agent owns,
# see only busy/free (never event details) of the calendars they pick, list calendars to pick from.
SCOPE_EVENTS_OWNED = "https://www.googleapis.com/auth/calendar.events.owned"
SCOPE_FREEBUSY = "https://www.googleapis.com/auth/calendar.events.freebusy"
SCOPE_CALENDAR_LIST = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
SCOPES = [SCOPE_EVENTS_OWNED, SCOPE_FREEBUSY, SCOPE_CALENDAR_LIST]

# Granular consent lets people untick scopes. Without these two the connection is useless; any
# scope of each group (including broader ones granted earlier) will do. The calendar list is optional.
_CALENDAR = "https://www.googleapis.com/auth/calendar"
REQUIRED_SCOPE_GROUPS: dict[str, frozenset[str]] = {
    "create and update the events of your bookings": frozenset(
        {SCOPE_EVENTS_OWNED, "https://www.googleapis.com/auth/calendar.events", _CALENDAR}
    ),
    "see when you are busy": frozenset(
        {
            SCOPE_FREEBUSY,
            "https://www.googleapis.com/auth/calendar.freebusy",
            "https://www.googleapis.com/auth/calendar.readonly",
            _CALENDAR,
        }
    ),
}

TOKEN_TIMEOUT_SECONDS = 10.0
_INSECURE_TRANSPORT = "OAUTHLIB_INSECURE_TRANSPORT"
_insecure_transport_lock = threading.Lock()


@contextmanager
def oauthlib_transport(settings: Settings) -> Iterator[None]:
    """Let oauthlib use plain http only while talking to loopback endpoints (the tests' stand-in).

    oauthlib reads the process-wide OAUTHLIB_INSECURE_TRANSPORT on each call, so it is set only for
    the duration of one call, under a lock, and only when every Google endpoint is a loopback
    address; real (https) endpoints never need it.
    """
    if not settings.google_endpoints_are_loopback:
        yield
        return
    with _insecure_transport_lock:
        previous = os.environ.get(_INSECURE_TRANSPORT)
        os.environ[_INSECURE_TRANSPORT] = "1"
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(_INSECURE_TRANSPORT, None)
            else:
                os.environ[_INSECURE_TRANSPORT] = previous


def insecure_endpoints(settings: Settings) -> list[str]:
    """The Google endpoint variables set to plain http while not all of them are loopback addresses."""
    if settings.google_endpoints_are_loopback:
        return []
    endpoints = {
        "GOOGLE_AUTH_URI": settings.google_auth_uri,
        "GOOGLE_TOKEN_URI": settings.google_token_uri,
        "GOOGLE_API_ENDPOINT": settings.google_api_endpoint,
    }
    return [name for name, url in endpoints.items() if urlsplit(url).scheme != "https"]


def require_secure_endpoints(settings: Settings) -> None:
    plain = insecure_endpoints(settings)
    if plain:
        raise GoogleEndpointInsecure(
            f"{', '.join(plain)} must use https; plain http is allowed only when every Google endpoint is a "
            "loopback address"
        )


def _keep_tokens_out_of_logs() -> None:
    # requests-oauthlib logs the token endpoint's whole response (the tokens) at DEBUG.
    # Pinned on the logger itself, so a later DEBUG root configuration cannot turn it back on.
    logger = logging.getLogger("requests_oauthlib")
    if logger.level < logging.INFO:
        logger.setLevel(logging.INFO)


def build_flow(settings: Settings, *, code_verifier: str) -> Flow:
    _keep_tokens_out_of_logs()
    client_config = {
        "web": {
            "client_id": settings.google_client_id,
            "client_secret": settings.google_client_secret,
            "auth_uri": settings.google_auth_uri,
            "token_uri": settings.google_token_uri,
            "redirect_uris": [settings.google_redirect_uri],
        }
    }
    return Flow.from_client_config(
        client_config,
        scopes=SCOPES,
        redirect_uri=settings.google_redirect_uri,
        code_verifier=code_verifier,
        autogenerate_code_verifier=False,
    )


def consent_url(settings: Settings, *, state: str, code_verifier: str, login_hint: str | None) -> str:
    flow = build_flow(settings, code_verifier=code_verifier)
    extra = {"login_hint": login_hint} if login_hint else {}
    with oauthlib_transport(settings):
        url, _ = flow.authorization_url(state=state, access_type="offline", prompt="consent", **extra)
    return str(url)


def _scopes_of(token: dict[str, Any]) -> list[str]:
    scope = token.get("scope") or []
    return scope.split() if isinstance(scope, str) else [str(s) for s in scope]


def exchange_code(settings: Settings, *, code: str, code_verifier: str) -> tuple[StoredTokens, list[str]]:
    """Trade the authorization code (and the PKCE verifier) for tokens; returns them with the granted scopes."""
    flow = build_flow(settings, code_verifier=code_verifier)
    try:
        with oauthlib_transport(settings):
            token: dict[str, Any] = dict(flow.fetch_token(code=code, timeout=TOKEN_TIMEOUT_SECONDS))
    except Warning as changed:
        # oauthlib raises (not warns) when Google grants other scopes than asked (granular consent);
        # the token is fine, the caller checks the scopes.
        token = dict(getattr(changed, "token", None) or {})
        if not token:
            raise GoogleRequestRejected("Google answered the code exchange without a token", status=400) from None
    except OAuth2Error as error:
        raise GoogleRequestRejected(
            f"Google refused the authorization code: {error.error}", status=error.status_code or 400
        ) from None
    except requests.RequestException as error:
        raise GoogleTemporarilyUnavailable(f"Google's token endpoint did not answer ({type(error).__name__})") from None
    if not token.get("refresh_token"):
        raise GoogleRequestRejected("Google did not issue a refresh token (offline access)", status=400)
    expires_in = token.get("expires_in")
    expiry = datetime.now(UTC) + timedelta(seconds=float(expires_in)) if expires_in else None
    tokens = StoredTokens(access_token=token["access_token"], refresh_token=token["refresh_token"], expiry=expiry)
    return tokens, _scopes_of(token) or list(SCOPES)


def missing_permissions(granted: Sequence[str]) -> list[str]:
    """What the agent unticked on the consent screen that the product cannot work without."""
    have = set(granted)
    return [purpose for purpose, accepted in REQUIRED_SCOPE_GROUPS.items() if not have & accepted]


def has_calendar_list_scope(granted: Sequence[str]) -> bool:
    return bool(
        set(granted)
        & {
            SCOPE_CALENDAR_LIST,
            "https://www.googleapis.com/auth/calendar.readonly",
            _CALENDAR,
            "https://www.googleapis.com/auth/calendar.calendarlist",
        }
    )

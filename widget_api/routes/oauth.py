"""Google Calendar connect: consent redirect and OAuth callback."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, RedirectResponse

from shared.accounts.scoped import calendars as scoped_calendars
from shared.calendars.google.errors import OAuthStateInvalid
from shared.calendars.google.service import complete_connect
from shared.settings import Settings
from widget_api.deps import AdminDep, NowDep, SessionDep, SettingsDep

router = APIRouter(tags=["calendar"])

# The dashboard's settings view, where the agent sees the connection status.
DASHBOARD_SETTINGS_PATH = "/settings"


def _dashboard_settings_url(settings: Settings, **params: str | int) -> str:
    return f"{settings.dashboard_url.rstrip('/')}{DASHBOARD_SETTINGS_PATH}?{urlencode(params)}"


@router.get(
    "/api/v1/admin/agents/{agent_id}/calendar/google/connect",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {"description": "Redirect to Google's consent screen"},
        403: {"description": "An agent's token used for another agent"},
        404: {"description": "Unknown agent"},
        503: {"description": "Google Calendar is not configured"},
    },
)
def connect_google_calendar(
    agent_id: int, actor: AdminDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> RedirectResponse:
    """Start connecting the agent's Google Calendar: 302 to Google's consent screen (offline access, PKCE)."""
    url = scoped_calendars.start_google_connect(session, actor=actor, agent_id=agent_id, settings=settings, now=now)
    return RedirectResponse(url, status_code=302)


@router.get(
    "/oauth/google/callback",
    status_code=302,
    response_class=RedirectResponse,
    response_model=None,
    responses={
        302: {"description": "Back to the dashboard's settings view, with ?calendar=connected or =error"},
        400: {"description": "Forged, replayed or expired state; nothing stored"},
        503: {"description": "Google Calendar is not configured"},
    },
)
def google_oauth_callback(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    state: Annotated[str, Query(max_length=512)] = "",
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse | JSONResponse:
    """Where Google sends the agent back after consent. Stores the tokens (encrypted), then 302 to the dashboard."""
    try:
        outcome = complete_connect(session, state=state, code=code, error=error, settings=settings, now=now)
    except OAuthStateInvalid as invalid:
        # Returned, not raised: the transaction then commits, which here changes nothing.
        return JSONResponse(status_code=400, content={"detail": invalid.detail})
    if outcome.connected:
        target = _dashboard_settings_url(settings, calendar="connected", agent_id=outcome.agent_id)
    else:
        target = _dashboard_settings_url(
            settings, calendar="error", reason=outcome.reason or "consent_failed", agent_id=outcome.agent_id
        )
    # Returned (not raised) on failure too, so the used-up state is committed.
    return RedirectResponse(target, status_code=302)

"""Errors of the Google Calendar integration.

Two families: domain errors the API and dashboard show (state, configuration), and the outcome of a
call to Google classified once, so busy-time lookups and outbox handlers react the same way.
"""

from __future__ import annotations

from shared.errors import InvalidInput, MeetingsError, ServiceUnavailable

NOT_CONFIGURED_DETAIL = (
    "Google Calendar is not configured: set GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REDIRECT_URI"
)


class GoogleNotConfigured(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__(NOT_CONFIGURED_DETAIL)


class GoogleEndpointInsecure(ServiceUnavailable):
    """A Google endpoint is configured with plain http but is not a loopback address."""


class OAuthStateInvalid(InvalidInput):
    """The callback's `state` is unknown (forged), already used (replayed) or expired. Nothing is stored."""


class GoogleCallError(MeetingsError):
    """A call to Google did not do what was asked. `str()` never holds a token."""


class GoogleAccessRevoked(GoogleCallError):
    """The refresh token was refused (`invalid_grant`): the agent must connect again."""


class GoogleTemporarilyUnavailable(GoogleCallError):
    """429, 403 rate limits, 5xx, 401 after a refresh, network trouble: worth retrying later."""

    def __init__(self, detail: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class GoogleRequestRejected(GoogleCallError):
    """Any other 4xx: retrying the same request cannot help."""

    def __init__(self, detail: str, *, status: int) -> None:
        super().__init__(detail)
        self.status = status


class EventAlreadyExists(GoogleRequestRejected):
    """409 on insert: the deterministic id is taken (by our earlier attempt, or a deleted event)."""


class EventGone(GoogleRequestRejected):
    """404 or 410: the event does not exist (never created, or deleted)."""

"""Calendar v3 through google-api-python-client, with every failure classified in one place.

The client is built per connection with `build("calendar", "v3", ...)` from the bundled discovery
document, pointed at `GOOGLE_API_ENDPOINT`. Requests are not retried here (`num_retries=0`): a busy
lookup falls back instead of keeping a visitor waiting, and the outbox owns retries with backoff.
Expired access tokens are refreshed by google-auth (before the call, or after a 401), through
`GOOGLE_TOKEN_URI`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from shared.availability.rules import Interval
from shared.calendars.base import CalendarInfo, CalendarProvider
from shared.calendars.google.errors import (
    EventAlreadyExists,
    EventGone,
    GoogleAccessRevoked,
    GoogleRequestRejected,
    GoogleTemporarilyUnavailable,
)
from shared.calendars.google.oauth import insecure_endpoints
from shared.observability.metrics import GOOGLE_CALLS
from shared.settings import Settings

logger = logging.getLogger("meetings.google")

# A visitor (or the booking lock) waits at most this long for one call to Google.
API_TIMEOUT_SECONDS = 10.0
# freeBusy answers at most about 90 days per call, and at most 50 calendars.
FREEBUSY_MAX_SPAN = timedelta(days=90)
FREEBUSY_MAX_CALENDARS = 50
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def split_range(
    start: datetime, end: datetime, span: timedelta = FREEBUSY_MAX_SPAN
) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive pieces of at most `span`."""
    cursor = start
    while cursor < end:
        piece_end = min(cursor + span, end)
        yield cursor, piece_end
        cursor = piece_end


def _error_reason(error: HttpError) -> str:
    try:
        document = json.loads(error.content or b"{}")
        details = document.get("error", {})
        if isinstance(details, dict):
            errors = details.get("errors") or [{}]
            return str(errors[0].get("reason") or details.get("status") or "")
        return str(details)
    except (ValueError, AttributeError, IndexError, TypeError):
        return ""


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after") if error.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def is_invalid_grant(error: RefreshError) -> bool:
    details = error.args[1] if len(error.args) > 1 else None
    if isinstance(details, dict):
        return details.get("error") == "invalid_grant"
    return "invalid_grant" in str(error)


def classify_http_error(error: HttpError, what: str) -> Exception:
    status = int(error.resp.status) if error.resp is not None else 0
    reason = _error_reason(error)
    detail = f"Google Calendar {what}: HTTP {status}" + (f" {reason}" if reason else "")
    if status == 429 or status >= 500 or (status == 403 and reason in RATE_LIMIT_REASONS):
        return GoogleTemporarilyUnavailable(detail, retry_after_seconds=_retry_after(error))
    if status == 401:
        # google-auth already refreshed and retried once; a fresh token being refused is odd but
        # not proof the grant is gone (that shows as invalid_grant on refresh): try again later.
        return GoogleTemporarilyUnavailable(detail)
    if status == 409:
        return EventAlreadyExists(detail, status=status)
    if status in (404, 410):
        return EventGone(detail, status=status)
    return GoogleRequestRejected(detail, status=status)


class GoogleCalendarClient(CalendarProvider):
    """One agent's Google Calendar. `credentials` may be refreshed in place by any call."""

    def __init__(self, settings: Settings, credentials: Credentials, *, timeout: float = API_TIMEOUT_SECONDS) -> None:
        self.credentials = credentials
        self._refusal = (
            f"{', '.join(plain)} must use https (plain http only for loopback addresses); nothing was sent"
            if (plain := insecure_endpoints(settings))
            else None
        )
        # An explicit httplib2.Http only to bound the wait; otherwise what `credentials=` would build.
        http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
        self._service = build(
            "calendar",
            "v3",
            http=http,
            client_options={"api_endpoint": settings.google_api_endpoint},
            static_discovery=True,
            cache_discovery=False,
        )

    def _execute(self, request: Any, what: str) -> Any:
        if self._refusal is not None:
            raise GoogleRequestRejected(f"Google Calendar {what}: {self._refusal}", status=0)
        try:
            answer = request.execute(num_retries=0)
            GOOGLE_CALLS.labels(method=what, status="200").inc()
            return answer
        except HttpError as error:
            GOOGLE_CALLS.labels(method=what, status=str(error.resp.status if error.resp is not None else 0)).inc()
            raise classify_http_error(error, what) from None
        except RefreshError as error:
            GOOGLE_CALLS.labels(method=what, status="refresh_error").inc()
            if is_invalid_grant(error):
                raise GoogleAccessRevoked(
                    "Google refused the stored grant (invalid_grant: revoked or expired); reconnect Google Calendar"
                ) from None
            summary = error.args[0] if error.args else type(error).__name__
            raise GoogleTemporarilyUnavailable(f"Google token refresh failed during {what}: {summary}") from None
        except (TransportError, httplib2.HttpLib2Error, OSError) as error:
            GOOGLE_CALLS.labels(method=what, status="network_error").inc()
            raise GoogleTemporarilyUnavailable(
                f"Google Calendar {what}: network error ({type(error).__name__})"
            ) from None

    def list_calendars(self) -> list[CalendarInfo]:
        calendars: list[CalendarInfo] = []
        page_token: str | None = None
        while True:
            page = self._execute(
                self._service.calendarList().list(pageToken=page_token, minAccessRole="freeBusyReader"),
                "calendarList.list",
            )
            for item in page.get("items", []):
                calendars.append(
                    CalendarInfo(
                        id=item["id"],
                        summary=item.get("summaryOverride") or item.get("summary") or item["id"],
                        primary=bool(item.get("primary")),
                        access_role=item.get("accessRole", ""),
                    )
                )
            page_token = page.get("nextPageToken")
            if not page_token:
                return calendars

    def busy_intervals(self, calendar_ids: Sequence[str], *, start: datetime, end: datetime) -> list[Interval]:
        intervals: list[Interval] = []
        ids = list(dict.fromkeys(calendar_ids))
        for piece_start, piece_end in split_range(start, end):
            for first in range(0, len(ids), FREEBUSY_MAX_CALENDARS):
                body = {
                    "timeMin": rfc3339(piece_start),
                    "timeMax": rfc3339(piece_end),
                    "timeZone": "UTC",
                    "items": [{"id": calendar_id} for calendar_id in ids[first : first + FREEBUSY_MAX_CALENDARS]],
                }
                answer = self._execute(self._service.freebusy().query(body=body), "freeBusy.query")
                for calendar_id, calendar in (answer.get("calendars") or {}).items():
                    if calendar.get("errors"):
                        # One unreadable calendar (unshared, deleted) must not hide the others.
                        reasons = ", ".join(str(e.get("reason")) for e in calendar["errors"])
                        logger.warning("freeBusy: calendar %s skipped (%s)", calendar_id, reasons)
                    for busy in calendar.get("busy", []):
                        intervals.append(
                            Interval(datetime.fromisoformat(busy["start"]), datetime.fromisoformat(busy["end"]))
                        )
        return intervals

    def insert_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Insert and return the event as Google stored it (with `hangoutLink` when a Meet was asked for).

        sendUpdates=none: the invitee gets our own confirmation with the .ics, not a second invite.
        conferenceDataVersion=1: without it Google ignores `conferenceData.createRequest`.
        """
        created: dict[str, Any] = self._execute(
            self._service.events().insert(
                calendarId=calendar_id, body=event, sendUpdates="none", conferenceDataVersion=1
            ),
            "events.insert",
        )
        return created

    def patch_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Patch and return the event; a conference already on it stays (the patch does not name it)."""
        patched: dict[str, Any] = self._execute(
            self._service.events().patch(
                calendarId=calendar_id, eventId=event_id, body=changes, sendUpdates="none", conferenceDataVersion=1
            ),
            "events.patch",
        )
        return patched

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        self._execute(
            self._service.events().delete(calendarId=calendar_id, eventId=event_id, sendUpdates="none"),
            "events.delete",
        )

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        event: dict[str, Any] = self._execute(
            self._service.events().get(calendarId=calendar_id, eventId=event_id), "events.get"
        )
        return event

"""Busy times from Google Calendar (freeBusy), beside the local bookings, for the availability engine.

Browsing (/days, /slots) may use an answer up to `cache_seconds` old, kept in this process per
agent, calendar selection and range; the booking-time check (`fresh=True`) always asks Google.
Whatever goes wrong with Google, the visitor still gets an answer: a revoked grant marks the
connection `needs_reconnect` and busy times fall back to local bookings; a transient failure falls
back to the last answer seen (any age) or to local bookings alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shared.availability.busy import BusyTimeSource
from shared.availability.rules import Interval
from shared.calendars.google.client import GoogleCalendarClient
from shared.calendars.google.errors import GoogleAccessRevoked, GoogleCallError
from shared.calendars.google.service import (
    credentials_for,
    get_connection,
    mark_needs_reconnect,
    save_refreshed_tokens,
    usable_tokens,
)
from shared.models import Agent, utcnow
from shared.settings import Settings

logger = logging.getLogger("meetings.google")

DEFAULT_CACHE_SECONDS = 60.0
DEFAULT_CACHE_ENTRIES = 2048
# The booking-time check runs under the agent's booking lock: keep its wait on Google short.
FRESH_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class _Entry:
    start: datetime
    end: datetime
    fetched_at: float
    intervals: tuple[Interval, ...]


class BusyCache:
    """Recent freeBusy answers, least recently used evicted first. Thread-safe."""

    def __init__(self, max_entries: int = DEFAULT_CACHE_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, owner: tuple[object, ...], start: datetime, end: datetime, *, max_age: float | None
    ) -> list[Interval] | None:
        """Busy intervals within [start, end) from any entry of `owner` covering that range."""
        now = time.monotonic()
        with self._lock:
            for key, entry in reversed(self._entries.items()):
                if key[: len(owner)] != owner or entry.start > start or entry.end < end:
                    continue
                if max_age is not None and now - entry.fetched_at > max_age:
                    continue
                self._entries.move_to_end(key)
                return [i for i in entry.intervals if i.start < end and i.end > start]
        return None

    def put(self, owner: tuple[object, ...], start: datetime, end: datetime, intervals: list[Interval]) -> None:
        with self._lock:
            key = (*owner, start, end)
            self._entries[key] = _Entry(start, end, time.monotonic(), tuple(intervals))
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, agent_id: int) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == agent_id]:
                del self._entries[key]


class GoogleBusySource(BusyTimeSource):
    """The busy times of the calendars the agent picked (default: primary) in their Google account."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        cache: BusyCache | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        # The time a lost grant is recorded at (its reconnect notice is due then); busy_intervals
        # is given only the window it asks about.
        self.clock = clock
        self.cache_seconds = cache_seconds
        self.cache = cache or BusyCache()

    @property
    def needs_calendar_connection(self) -> bool:
        return True  # busy_intervals reports nothing without one (get_connection is None)

    def busy_intervals(
        self, session: Session, *, agent: Agent, start: datetime, end: datetime, fresh: bool
    ) -> list[Interval]:
        connection = get_connection(session, agent_id=agent.id)
        if connection is None:
            return []
        tokens = usable_tokens(session, connection=connection, settings=self.settings, now=self.clock())
        if tokens is None:
            return []
        owner: tuple[object, ...] = (agent.id, connection.account_email, tuple(connection.busy_calendar_ids or []))
        if not fresh:
            cached = self.cache.get(owner, start, end, max_age=self.cache_seconds)
            if cached is not None:
                return cached

        client = GoogleCalendarClient(
            self.settings,
            credentials_for(connection, tokens, self.settings),
            **({"timeout": FRESH_TIMEOUT_SECONDS} if fresh else {}),
        )
        try:
            intervals = client.busy_intervals(connection.busy_calendar_ids or ["primary"], start=start, end=end)
        except GoogleAccessRevoked as failure:
            mark_needs_reconnect(session, connection=connection, reason=str(failure), now=self.clock())
            self.cache.forget(agent.id)
            return []
        except GoogleCallError as failure:
            stale = self.cache.get(owner, start, end, max_age=None)
            logger.warning(
                "agent %s: Google busy times unavailable (%s); using %s",
                agent.id,
                failure,
                "the last known answer" if stale is not None else "local bookings only",
            )
            return stale or []
        finally:
            save_refreshed_tokens(
                session, connection=connection, before=tokens, credentials=client.credentials, settings=self.settings
            )
        self.cache.put(owner, start, end, intervals)
        return intervals

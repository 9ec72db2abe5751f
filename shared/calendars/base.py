"""The calendar provider interface. Google is one implementation; the rest of the product talks to this.

Providers are built per connection (credentials inside) and answer in plain values. Failures are
raised as `shared.calendars.google.errors.GoogleCallError` subclasses today; a second provider would
raise the same families (revoked, temporarily unavailable, rejected, already exists, gone).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.availability.rules import Interval


@dataclass(frozen=True)
class CalendarInfo:
    id: str
    summary: str
    primary: bool
    access_role: str


class CalendarProvider(ABC):
    @abstractmethod
    def list_calendars(self) -> list[CalendarInfo]:
        """The calendars the account sees, for choosing busy calendars and the destination."""

    @abstractmethod
    def busy_intervals(self, calendar_ids: Sequence[str], *, start: datetime, end: datetime) -> list[Interval]:
        """Busy times of those calendars in [start, end), however long the range."""

    @abstractmethod
    def insert_event(self, calendar_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Create the event with the id it carries and return it as stored (with its conference link,
        if one was asked for); raises EventAlreadyExists when the id is taken."""

    @abstractmethod
    def patch_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change an existing event and return it; raises EventGone when it does not exist (any more)."""

    @abstractmethod
    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """Delete the event; raises EventGone when it does not exist (any more)."""

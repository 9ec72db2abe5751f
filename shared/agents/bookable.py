"""The rule of a bookable meeting type, in its one home: a meeting type can be booked (and its slots
shown) through an agent's link only while it is that agent's, active and not deleted; through a
team's link (SPEC §15) only while it is that team's, active and not deleted.

Two forms of the one rule: `is_bookable` for a meeting type already read (an ORM object or a row
with the same column names), `bookable_clause` for a query. Every caller uses one of them:
get_bookable_meeting_type and bookable_meeting_types (shared.agents.service), the booking's
one-statement look-up (shared.booking.service) and the answer cache's version query
(shared.availability.cache).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement, and_

from shared.models import MeetingType


class MeetingTypeState(Protocol):
    """What the rule reads of a meeting type."""

    @property
    def agent_id(self) -> int | None: ...
    @property
    def active(self) -> bool: ...
    @property
    def deleted_at(self) -> datetime | None: ...


def is_bookable(meeting_type: MeetingTypeState | None, *, agent_id: int) -> bool:
    """True for an active, not deleted meeting type of this agent; False for anything else (or None)."""
    return (
        meeting_type is not None
        and meeting_type.agent_id == agent_id
        and meeting_type.active
        and meeting_type.deleted_at is None
    )


def bookable_clause(agent_id: int) -> ColumnElement[bool]:
    """The same rule as a WHERE clause on MeetingType."""
    return and_(MeetingType.agent_id == agent_id, MeetingType.active.is_(True), MeetingType.deleted_at.is_(None))


class TeamMeetingTypeState(Protocol):
    @property
    def team_id(self) -> int | None: ...
    @property
    def active(self) -> bool: ...
    @property
    def deleted_at(self) -> datetime | None: ...


def is_bookable_for_team(meeting_type: TeamMeetingTypeState | None, *, team_id: int) -> bool:
    """The same rule through a team's link: an active, not deleted meeting type of this team."""
    return (
        meeting_type is not None
        and meeting_type.team_id == team_id
        and meeting_type.active
        and meeting_type.deleted_at is None
    )


def team_bookable_clause(team_id: int) -> ColumnElement[bool]:
    """is_bookable_for_team as a WHERE clause on MeetingType."""
    return and_(MeetingType.team_id == team_id, MeetingType.active.is_(True), MeetingType.deleted_at.is_(None))

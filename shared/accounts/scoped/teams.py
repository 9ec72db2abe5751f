"""Teams as the actor may see and change them: managers only (SPEC §15, the dashboard's Teams page
and the admin API's /teams); an agent's token or login is refused (403)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from shared.accounts.permissions import Actor, require_manager
from shared.agents.schemas import DEFAULT_COLOUR
from shared.models import MeetingType, Team
from shared.models.meeting_type import DEFAULT_REMINDER_MINUTES
from shared.teams import service as teams
from shared.teams.schemas import TeamChanges

WHAT = "manage teams"


def list_teams(session: Session, *, actor: Actor) -> list[Team]:
    require_manager(actor, WHAT)
    return teams.list_teams(session)


def get_team(session: Session, *, actor: Actor, team_id: int) -> Team:
    require_manager(actor, WHAT)
    return teams.get_team(session, team_id=team_id)


def create_team(
    session: Session, *, actor: Actor, name: str, mode: str, member_ids: Sequence[int], now: datetime | None = None
) -> Team:
    """A new team with a link; InvalidTeam (nothing saved) names what is wrong with the input."""
    require_manager(actor, WHAT)
    return teams.create_team(session, name=name, mode=mode, member_ids=member_ids, now=now)


def update_team(
    session: Session, *, actor: Actor, team_id: int, changes: TeamChanges, now: datetime | None = None
) -> Team:
    """Rename, change the mode, or replace the members (members who leave keep their bookings)."""
    require_manager(actor, WHAT)
    return teams.update_team(session, team_id=team_id, changes=changes, now=now)


def delete_team(session: Session, *, actor: Actor, team_id: int, now: datetime) -> None:
    require_manager(actor, WHAT)
    teams.delete_team(session, team_id=team_id, now=now)


def rotate_link(session: Session, *, actor: Actor, team_id: int) -> Team:
    require_manager(actor, WHAT)
    return teams.rotate_team_link(session, team_id=team_id)


def list_meeting_types(session: Session, *, actor: Actor, team_id: int) -> list[MeetingType]:
    require_manager(actor, WHAT)
    return teams.list_team_meeting_types(session, team_id=team_id)


def create_meeting_type(
    session: Session,
    *,
    actor: Actor,
    team_id: int,
    name: str,
    duration_minutes: int,
    description: str = "",
    colour: str = DEFAULT_COLOUR,
    active: bool = True,
    min_notice_minutes: int | None = None,
    buffer_before_minutes: int | None = None,
    buffer_after_minutes: int | None = None,
    max_per_day: int | None = None,
    reminder_minutes: Sequence[int] = DEFAULT_REMINDER_MINUTES,
    location: object = None,
) -> MeetingType:
    """A team meeting type (edit and delete it with the agents' scoped update/delete_meeting_type)."""
    require_manager(actor, WHAT)
    return teams.create_team_meeting_type(
        session,
        team_id=team_id,
        name=name,
        duration_minutes=duration_minutes,
        description=description,
        colour=colour,
        active=active,
        min_notice_minutes=min_notice_minutes,
        buffer_before_minutes=buffer_before_minutes,
        buffer_after_minutes=buffer_after_minutes,
        max_per_day=max_per_day,
        reminder_minutes=reminder_minutes,
        location=location,
    )

"""Teams, their members, booking links and meeting types (SPEC §15).

Every bad input is refused before anything is stored, with the reason (InvalidTeam and its
subclasses, InvalidMeetingType for a team type's fields): unknown member ids, an empty team, an
inactive agent as member, a duplicate member, an unknown mode, a missing or too long name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.agents.bookable import is_bookable_for_team, team_bookable_clause
from shared.agents.errors import LinkNotFound, MeetingTypeNotFound
from shared.agents.locations import check_location_for_agents
from shared.agents.schemas import DEFAULT_COLOUR, HORIZON_DAYS_RANGE
from shared.agents.service import add_meeting_type, new_link
from shared.models import Agent, MeetingType, Team, TeamMember
from shared.models.meeting_type import DEFAULT_REMINDER_MINUTES
from shared.models.team import TEAM_MODES
from shared.teams.errors import (
    DuplicateMember,
    EmptyTeam,
    InactiveMember,
    InvalidTeam,
    TeamNotFound,
    UnknownMembers,
    UnknownMode,
)
from shared.teams.schemas import MAX_MEMBERS, TEAM_NAME_MAX_LENGTH, TeamChanges


def check_team_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidTeam("name is required")
    name = value.strip()
    if len(name) > TEAM_NAME_MAX_LENGTH:
        raise InvalidTeam(f"name has at most {TEAM_NAME_MAX_LENGTH} characters")
    return name


def check_mode(value: object) -> str:
    if value not in TEAM_MODES:
        raise UnknownMode(f"mode must be one of {', '.join(TEAM_MODES)}, got {value!r}")
    return str(value)


def check_member_ids(session: Session, *, member_ids: object) -> list[int]:
    """The members as given (their order is the team's), each an active agent, each once."""
    if not isinstance(member_ids, list | tuple) or any(type(i) is not int for i in member_ids):
        raise InvalidTeam("member_ids must be a list of agent ids")
    ids: list[int] = list(member_ids)
    if not ids:
        raise EmptyTeam("a team needs at least one member (member_ids is empty)")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DuplicateMember(f"member_ids lists agent {duplicates[0]} more than once")
    if len(ids) > MAX_MEMBERS:
        raise InvalidTeam(f"a team has at most {MAX_MEMBERS} members")
    found = {agent.id: agent for agent in session.scalars(select(Agent).where(Agent.id.in_(ids)))}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise UnknownMembers(f"member_ids: no agent with id {', '.join(map(str, unknown))}")
    inactive = [i for i in ids if not found[i].active]
    if inactive:
        raise InactiveMember(f"member_ids: agent {inactive[0]} ({found[inactive[0]].name}) is inactive")
    return ids


def _set_members(team: Team, member_ids: Sequence[int], *, now: datetime | None) -> None:
    """Keep the members that stay (with their place and date), drop the others, add the new at the end.
    A member who leaves keeps the bookings already made with them: only the membership row goes."""
    keep = set(member_ids)
    team.members = [member for member in team.members if member.agent_id in keep]
    present = {member.agent_id for member in team.members}
    for agent_id in member_ids:
        if agent_id not in present:
            member = TeamMember(agent_id=agent_id)
            if now is not None:
                member.added_at = now
            team.members.append(member)
    order = {agent_id: index for index, agent_id in enumerate(member_ids)}
    team.members.sort(key=lambda member: order[member.agent_id])
    for index, member in enumerate(team.members):
        member.position = index


def create_team(
    session: Session, *, name: str, mode: str, member_ids: Sequence[int], now: datetime | None = None
) -> Team:
    """A team with its members (in the order given) and a new unguessable link; no meeting types yet."""
    team = Team(
        name=check_team_name(name),
        mode=check_mode(mode),
        link=new_link(),
    )
    ids = check_member_ids(session, member_ids=member_ids)
    if now is not None:
        team.created_at = now
    _set_members(team, ids, now=now)
    session.add(team)
    session.flush()
    return team


def get_team(session: Session, *, team_id: int) -> Team:
    """A team that is not deleted; TeamNotFound otherwise."""
    team = session.get(Team, team_id)
    if team is None or team.deleted_at is not None:
        raise TeamNotFound()
    return team


def find_team_by_link(session: Session, *, link: str) -> Team | None:
    """The team behind a public booking link, or None (unknown, rotated or deleted)."""
    if "\x00" in link:
        return None
    return session.scalar(select(Team).where(Team.link == link, Team.deleted_at.is_(None)))


def get_team_by_link(session: Session, *, link: str) -> Team:
    team = find_team_by_link(session, link=link)
    if team is None:
        raise LinkNotFound()
    return team


def list_teams(session: Session) -> list[Team]:
    """Every team that is not deleted, by name then id, with members (and their calendars) loaded."""
    return list(session.scalars(select(Team).where(Team.deleted_at.is_(None)).order_by(Team.name, Team.id)))


def teams_of_agent(session: Session, *, agent_id: int) -> list[Team]:
    """The teams the agent is a member of."""
    query = (
        select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.agent_id == agent_id, Team.deleted_at.is_(None))
        .order_by(Team.name, Team.id)
    )
    return list(session.scalars(query))


def update_team(session: Session, *, team_id: int, changes: TeamChanges, now: datetime | None = None) -> Team:
    """Rename, change the mode or set the members (the whole list); all checked before any is applied."""
    team = get_team(session, team_id=team_id)
    editable = ("name", "mode", "member_ids")
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        raise InvalidTeam(f"unknown field {unknown[0]!r}; editable: {', '.join(editable)}")
    name = check_team_name(changes["name"]) if "name" in changes else None
    mode = check_mode(changes["mode"]) if "mode" in changes else None
    ids = check_member_ids(session, member_ids=changes["member_ids"]) if "member_ids" in changes else None
    if name is not None:
        team.name = name
    if mode is not None:
        team.mode = mode
    if ids is not None:
        _set_members(team, ids, now=now)
    session.flush()
    return team


def set_members(session: Session, *, team_id: int, member_ids: Sequence[int], now: datetime | None = None) -> Team:
    """Replace the team's members; members who leave keep their bookings."""
    return update_team(session, team_id=team_id, changes={"member_ids": member_ids}, now=now)


def delete_team(session: Session, *, team_id: int, now: datetime) -> None:
    """Soft delete: the link answers 404 at once; bookings made through the team stay as they are."""
    team = get_team(session, team_id=team_id)
    team.deleted_at = now
    session.flush()


def rotate_team_link(session: Session, *, team_id: int) -> Team:
    """A new booking link for the team; the old one answers 404 everywhere from now on."""
    team = get_team(session, team_id=team_id)
    team.link = new_link()
    session.flush()
    return team


def list_team_meeting_types(session: Session, *, team_id: int) -> list[MeetingType]:
    """The team's meeting types in their order, inactive ones included, deleted ones not."""
    get_team(session, team_id=team_id)
    return list(
        session.scalars(
            select(MeetingType)
            .where(MeetingType.team_id == team_id, MeetingType.deleted_at.is_(None))
            .order_by(MeetingType.position, MeetingType.id)
        )
    )


def bookable_team_meeting_types(session: Session, *, team: Team) -> list[MeetingType]:
    """What the team's link offers (shared.agents.bookable), in order."""
    return list(
        session.scalars(
            select(MeetingType).where(team_bookable_clause(team.id)).order_by(MeetingType.position, MeetingType.id)
        )
    )


def get_bookable_team_meeting_type(session: Session, *, team: Team, meeting_type_id: int) -> MeetingType:
    meeting_type = session.get(MeetingType, meeting_type_id)
    if meeting_type is None or not is_bookable_for_team(meeting_type, team_id=team.id):
        raise MeetingTypeNotFound()
    return meeting_type


def members_horizon_days(team: Team) -> int:
    """The longest booking horizon among the members: a type's notice must leave someone bookable."""
    horizons = [agent.availability.horizon_days for agent in team.agents if agent.availability is not None]
    return max(horizons, default=HORIZON_DAYS_RANGE[1])


def create_team_meeting_type(
    session: Session,
    *,
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
    """Add a meeting type at the end of the team's list: the fields and rules of an agent's type
    (None rules use each member's own setting). `google_meet` needs every member's Google Calendar."""
    team = get_team(session, team_id=team_id)
    return add_meeting_type(
        session,
        team_id=team.id,
        horizon_days=members_horizon_days(team),
        check_place=lambda raw: check_location_for_agents(session, agent_ids=team.member_ids, raw=raw),
        name=name,
        duration_minutes=duration_minutes,
        description=description,
        colour=colour,
        active=active,
        rules={
            "min_notice_minutes": min_notice_minutes,
            "buffer_before_minutes": buffer_before_minutes,
            "buffer_after_minutes": buffer_after_minutes,
            "max_per_day": max_per_day,
        },
        reminder_minutes=reminder_minutes,
        location=location,
    )

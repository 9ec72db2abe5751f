"""Agents, their availability, booking link and meeting types, as the actor may see and change them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from shared.accounts import service as accounts
from shared.accounts.permissions import Actor, is_manager, require_can_manage_agent, require_manager
from shared.accounts.service import check_new_password
from shared.agents import service as agents
from shared.agents.errors import MeetingTypeNotFound
from shared.agents.schemas import DEFAULT_COLOUR, AgentChanges, AvailabilityInput, MeetingTypeChanges
from shared.agents.validation import check_agent
from shared.auth.passwords import hash_password
from shared.errors import InvalidInput
from shared.locales import DEFAULT_LOCALE
from shared.models import Agent, Availability, MeetingType
from shared.models.meeting_type import DEFAULT_REMINDER_MINUTES


def visible_agents(session: Session, *, actor: Actor) -> list[Agent]:
    """Every agent for a manager (calendar status loaded); only themselves for an agent."""
    if is_manager(actor):
        return agents.list_agents(session)
    return [agents.get_agent(session, agent_id=actor.id)]


def get_agent(session: Session, *, actor: Actor, agent_id: int) -> Agent:
    require_can_manage_agent(actor, agent_id)
    return agents.get_agent(session, agent_id=agent_id)


def update_agent(session: Session, *, actor: Actor, agent_id: int, changes: AgentChanges) -> Agent:
    """Change an agent's own settings (name, language of their emails): the agent themselves or a manager."""
    require_can_manage_agent(actor, agent_id)
    return agents.update_agent(session, agent_id=agent_id, changes=changes)


def update_availability(session: Session, *, actor: Actor, agent_id: int, data: AvailabilityInput) -> Availability:
    """Save the agent's hours and rules; InvalidAvailability (nothing saved) names the bad field."""
    require_can_manage_agent(actor, agent_id)
    return agents.update_availability(session, agent_id=agent_id, data=data)


def rotate_link(session: Session, *, actor: Actor, agent_id: int) -> Agent:
    """A new booking link for the agent; the old one stops working at once."""
    require_can_manage_agent(actor, agent_id)
    return agents.rotate_link(session, agent_id=agent_id)


def list_meeting_types(session: Session, *, actor: Actor, agent_id: int) -> list[MeetingType]:
    require_can_manage_agent(actor, agent_id)
    return agents.list_meeting_types(session, agent_id=agent_id)


def create_meeting_type(
    session: Session,
    *,
    actor: Actor,
    agent_id: int,
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
    """Add a meeting type at the end of the agent's list; InvalidMeetingType names a bad field."""
    require_can_manage_agent(actor, agent_id)
    return agents.create_meeting_type(
        session,
        agent_id=agent_id,
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


def _owner_for(actor: Actor, agent_id: int | None) -> int | None:
    """Whose meeting types a change by id may touch: the list it is made from (checked: 403 for
    another agent's), or without one any agent's for a manager and only their own for an agent
    (another agent's type then looks missing: 404, as an unknown one)."""
    if agent_id is not None:
        require_can_manage_agent(actor, agent_id)
        return agent_id
    return None if is_manager(actor) else actor.id


def update_meeting_type(
    session: Session,
    *,
    actor: Actor,
    meeting_type_id: int,
    changes: MeetingTypeChanges,
    agent_id: int | None = None,
) -> MeetingType:
    """Change only the given fields of one type (`agent_id`: the list it is edited from, see `_owner_for`)."""
    owner = _owner_for(actor, agent_id)
    return agents.update_meeting_type(session, meeting_type_id=meeting_type_id, changes=changes, agent_id=owner)


def delete_meeting_type(
    session: Session, *, actor: Actor, meeting_type_id: int, now: datetime, agent_id: int | None = None
) -> None:
    """Soft delete: gone from the widget and lists; its bookings keep it (`agent_id` as for updates)."""
    owner = _owner_for(actor, agent_id)
    agents.delete_meeting_type(session, meeting_type_id=meeting_type_id, agent_id=owner, now=now)


def reorder_meeting_types(
    session: Session, *, actor: Actor, agent_id: int, ordered_ids: Sequence[int]
) -> list[MeetingType]:
    require_can_manage_agent(actor, agent_id)
    return agents.reorder_meeting_types(session, agent_id=agent_id, ordered_ids=ordered_ids)


def move_meeting_type(
    session: Session, *, actor: Actor, agent_id: int, meeting_type_id: int, offset: int
) -> list[MeetingType]:
    """Move one type up (offset -1) or down (+1) in the agent's list; at either end nothing moves."""
    current = [m.id for m in list_meeting_types(session, actor=actor, agent_id=agent_id)]
    if meeting_type_id not in current:
        raise MeetingTypeNotFound()
    index = current.index(meeting_type_id)
    target = max(0, min(len(current) - 1, index + offset))
    current.insert(target, current.pop(index))
    return reorder_meeting_types(session, actor=actor, agent_id=agent_id, ordered_ids=current)


def create_agent(
    session: Session,
    *,
    actor: Actor,
    name: str,
    email: str,
    timezone: str,
    role: str,
    password: str | None,
    locale: str = DEFAULT_LOCALE,
) -> Agent:
    """A manager adds a team member (with the predefined meeting types) and, optionally, their password."""
    require_manager(actor, "add agents")
    name, email = check_agent(name=name, email=email, role=role)  # before the password is checked
    password_hash = hash_password(check_new_password(password)) if password else None
    return agents.create_agent(
        session, name=name, email=email, timezone=timezone, role=role, password_hash=password_hash, locale=locale
    )


def set_password(session: Session, *, actor: Actor, agent_id: int, new_password: str) -> None:
    """A manager gives an agent a (new) password; the agent's open sessions end."""
    require_manager(actor, "set other people's passwords")
    accounts.set_password(session, agent_id=agent_id, new_password=new_password)


def set_active(session: Session, *, actor: Actor, agent_id: int, active: bool) -> Agent:
    """A manager (de)activates an agent: an inactive agent's link and sign-in stop working."""
    require_manager(actor, "activate or deactivate agents")
    if agent_id == actor.id and not active:
        raise InvalidInput("you cannot deactivate yourself")
    agent = agents.get_agent(session, agent_id=agent_id)
    agent.active = active
    session.flush()
    return agent

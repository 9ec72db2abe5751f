"""Agents, their booking links and their meeting types."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.agents.errors import AgentNotFound, EmailTaken, LinkNotFound, MeetingTypeNotFound
from shared.models import PREDEFINED_MEETING_TYPES, Agent, Availability, MeetingType
from shared.models.agent import DEFAULT_WEEKLY, ROLE_AGENT
from shared.timezones import validate_timezone


def new_link() -> str:
    """An unguessable booking link id: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


def create_agent(
    session: Session,
    *,
    name: str,
    email: str,
    timezone: str,
    role: str = ROLE_AGENT,
    password_hash: str | None = None,
) -> Agent:
    """Create an agent with default availability (Mon–Fri 09:00–17:00) and the predefined meeting types."""
    validate_timezone(timezone)
    email = email.strip()
    if session.scalar(select(Agent.id).where(Agent.email == email)) is not None:
        raise EmailTaken()
    agent = Agent(name=name, email=email, timezone=timezone, role=role, link=new_link(), password_hash=password_hash)
    agent.availability = Availability(
        timezone=timezone,
        weekly={day: [list(w) for w in windows] for day, windows in DEFAULT_WEEKLY.items()},
        overrides=[],
        min_notice_minutes=240,
        horizon_days=60,
        buffer_before_minutes=0,
        buffer_after_minutes=0,
        slot_interval_minutes=30,
        max_per_day=None,
    )
    agent.meeting_types = [
        MeetingType(name=n, duration_minutes=minutes, description=text, colour=colour, position=i, active=True)
        for i, (n, minutes, text, colour) in enumerate(PREDEFINED_MEETING_TYPES)
    ]
    session.add(agent)
    session.flush()
    return agent


def get_agent(session: Session, *, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise AgentNotFound()
    return agent


def get_agent_by_link(session: Session, *, link: str) -> Agent:
    """The active agent behind a public booking link; LinkNotFound for unknown or rotated links."""
    agent = session.scalar(select(Agent).where(Agent.link == link, Agent.active.is_(True)))
    if agent is None:
        raise LinkNotFound()
    return agent


def rotate_link(session: Session, *, agent_id: int) -> Agent:
    """Give the agent a new booking link; the old one stops working at once."""
    agent = get_agent(session, agent_id=agent_id)
    agent.link = new_link()
    session.flush()
    return agent


def bookable_meeting_types(session: Session, *, agent: Agent) -> list[MeetingType]:
    return list(
        session.scalars(
            select(MeetingType)
            .where(MeetingType.agent_id == agent.id, MeetingType.active.is_(True), MeetingType.deleted_at.is_(None))
            .order_by(MeetingType.position, MeetingType.id)
        )
    )


def get_bookable_meeting_type(session: Session, *, agent: Agent, meeting_type_id: int) -> MeetingType:
    """An active meeting type of this agent; MeetingTypeNotFound for inactive, deleted or foreign ones."""
    meeting_type = session.get(MeetingType, meeting_type_id)
    if (
        meeting_type is None
        or meeting_type.agent_id != agent.id
        or not meeting_type.active
        or meeting_type.deleted_at is not None
    ):
        raise MeetingTypeNotFound()
    return meeting_type

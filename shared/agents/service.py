"""Agents, their booking links and their meeting types."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shared.agents.bookable import bookable_clause, is_bookable
from shared.agents.errors import (
    AgentNotFound,
    EmailTaken,
    InvalidAgent,
    InvalidMeetingType,
    LinkNotFound,
    MeetingTypeNotFound,
)
from shared.agents.locations import NO_LOCATION, Location, check_location_for_agent, check_location_for_agents
from shared.agents.locks import lock_agents
from shared.agents.schemas import (
    DEFAULT_COLOUR,
    HORIZON_DAYS_RANGE,
    MEETING_TYPE_RULE_FIELDS,
    AgentChanges,
    AvailabilityInput,
    MeetingTypeChanges,
)
from shared.agents.validation import (
    check_active,
    check_agent,
    check_availability,
    check_colour,
    check_description,
    check_duration,
    check_meeting_type_rules,
    check_name,
    check_reminder_minutes,
)
from shared.locales import DEFAULT_LOCALE, check_locale
from shared.models import (
    PREDEFINED_MEETING_TYPES,
    Agent,
    Availability,
    MeetingType,
    TeamMember,
)
from shared.models.agent import AVAILABILITY_DEFAULTS, DEFAULT_WEEKLY, ROLE_AGENT
from shared.models.meeting_type import DEFAULT_REMINDER_MINUTES
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
    locale: str = DEFAULT_LOCALE,
) -> Agent:
    """Create an agent with default availability (Mon–Fri 09:00–17:00) and the predefined meeting types.

    InvalidAgent for a missing name, a malformed email or an unknown role; InvalidInput for a locale
    outside shared.locales; EmailTaken when an agent already has this email (any case).
    """
    name, email = check_agent(name=name, email=email, role=role)
    locale = check_locale(locale)
    validate_timezone(timezone)
    # Case-insensitive: Ada@Example.com and ada@example.com are one mailbox in practice.
    if session.scalar(select(Agent.id).where(func.lower(Agent.email) == email.lower())) is not None:
        raise EmailTaken()
    agent = Agent(
        name=name,
        email=email,
        timezone=timezone,
        role=role,
        locale=locale,
        link=new_link(),
        password_hash=password_hash,
    )
    agent.availability = Availability(
        timezone=timezone,
        weekly={day: [list(w) for w in windows] for day, windows in DEFAULT_WEEKLY.items()},
        overrides=[],
        **asdict(AVAILABILITY_DEFAULTS),
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
    if "\x00" in link:  # no link holds a NUL; PostgreSQL would refuse the query (a 422, not the 404)
        raise LinkNotFound()
    agent = session.scalar(select(Agent).where(Agent.link == link, Agent.active.is_(True)))
    if agent is None:
        raise LinkNotFound()
    return agent


def update_agent(session: Session, *, agent_id: int, changes: AgentChanges) -> Agent:
    """Change an agent's own settings (name, locale); all are checked before any is applied."""
    agent = get_agent(session, agent_id=agent_id)
    checks = {
        "name": lambda value: check_agent(name=value, email=agent.email, role=agent.role)[0],
        "locale": check_locale,
    }
    unknown = sorted(set(changes) - set(checks))
    if unknown:
        raise InvalidAgent(f"unknown field {unknown[0]!r}; editable: {', '.join(checks)}")
    checked = {key: checks[key](value) for key, value in changes.items()}
    for key, value in checked.items():
        setattr(agent, key, value)
    session.flush()
    return agent


def rotate_link(session: Session, *, agent_id: int) -> Agent:
    """Give the agent a new booking link; the old one stops working at once."""
    agent = get_agent(session, agent_id=agent_id)
    agent.link = new_link()
    session.flush()
    return agent


def bookable_meeting_types(session: Session, *, agent: Agent) -> list[MeetingType]:
    """The agent's bookable meeting types (shared.agents.bookable) in their order: what a link offers."""
    return list(
        session.scalars(
            select(MeetingType).where(bookable_clause(agent.id)).order_by(MeetingType.position, MeetingType.id)
        )
    )


def get_bookable_meeting_type(session: Session, *, agent: Agent, meeting_type_id: int) -> MeetingType:
    """An active meeting type of this agent; MeetingTypeNotFound for inactive, deleted or foreign ones."""
    meeting_type = session.get(MeetingType, meeting_type_id)
    if meeting_type is None or not is_bookable(meeting_type, agent_id=agent.id):
        raise MeetingTypeNotFound()
    return meeting_type


_BIGINT_IDS = range(-(2**63), 2**63)


def link_and_type_params(*, link: str, meeting_type_id: int) -> dict[str, object]:
    """The bind parameters of a one-statement read of the agent behind `link` with the meeting type
    asked for (the booking's target, the availability answers' owner). LinkNotFound for a link with
    a NUL (no link holds one; PostgreSQL would refuse the query). An id beyond 64 bits binds NULL:
    `bookable_type_read` then leaves it to get_bookable_meeting_type, which refuses it as it always did."""
    if "\x00" in link:
        raise LinkNotFound()
    return {"link": link, "meeting_type_id": meeting_type_id if meeting_type_id in _BIGINT_IDS else None}


def bookable_type_read(
    session: Session, *, agent: Agent, meeting_type_id: int, read: MeetingType | None
) -> MeetingType:
    """The meeting type such a read returned for `meeting_type_id` (None when the outer join found
    none), checked as get_bookable_meeting_type checks it: MeetingTypeNotFound unless bookable."""
    if meeting_type_id not in _BIGINT_IDS:
        return get_bookable_meeting_type(session, agent=agent, meeting_type_id=meeting_type_id)
    if not is_bookable(read, agent_id=agent.id):
        raise MeetingTypeNotFound()
    assert read is not None  # is_bookable is False for None
    return read


def list_agents(session: Session, *, include_inactive: bool = True) -> list[Agent]:
    """All agents by id, with their calendar connection loaded (for the status column)."""
    query = select(Agent).options(selectinload(Agent.calendar_connection)).order_by(Agent.id)
    if not include_inactive:
        query = query.where(Agent.active.is_(True))
    return list(session.scalars(query).unique())


def get_availability(session: Session, *, agent_id: int) -> Availability:
    return get_agent(session, agent_id=agent_id).availability


def update_availability(session: Session, *, agent_id: int, data: AvailabilityInput) -> Availability:
    """Replace the agent's availability (and time zone) after checking every field.

    InvalidAvailability names the first bad field; nothing is changed then. Windows are stored
    sorted, overrides sorted by date.
    """
    agent = get_agent(session, agent_id=agent_id)
    values = check_availability(data)
    availability = agent.availability
    if availability is None:
        availability = Availability(agent_id=agent.id)
        agent.availability = availability
    for key, value in values.items():
        setattr(availability, key, value)
    # The agent's zone is the zone of their hours: one setting in the dashboard, one truth.
    agent.timezone = values["timezone"]
    session.flush()
    return availability


def list_meeting_types(session: Session, *, agent_id: int) -> list[MeetingType]:
    """The agent's meeting types in their order, inactive ones included, deleted ones not."""
    get_agent(session, agent_id=agent_id)
    return list(
        session.scalars(
            select(MeetingType)
            .where(MeetingType.agent_id == agent_id, MeetingType.deleted_at.is_(None))
            .order_by(MeetingType.position, MeetingType.id)
        )
    )


def get_meeting_type(session: Session, *, meeting_type_id: int, agent_id: int | None = None) -> MeetingType:
    """A meeting type that is not deleted; with agent_id, only that agent's (others look missing)."""
    meeting_type = session.get(MeetingType, meeting_type_id)
    if (
        meeting_type is None
        or meeting_type.deleted_at is not None
        or (agent_id is not None and meeting_type.agent_id != agent_id)
    ):
        raise MeetingTypeNotFound()
    return meeting_type


def create_meeting_type(
    session: Session,
    *,
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
    """Add a meeting type at the end of the agent's list. InvalidMeetingType names a bad field.

    The four rules (notice, buffers, daily maximum) are the type's own; None uses the agent's.
    `reminder_minutes`: when the invitee is reminded, minutes before the start (a day and an hour
    unless told otherwise); `location`: `{"kind", "value"}` (shared.agents.locations; None: `none`).
    """
    agent = get_agent(session, agent_id=agent_id)
    return add_meeting_type(
        session,
        agent_id=agent_id,
        horizon_days=agent.availability.horizon_days,
        check_place=lambda raw: check_location_for_agent(session, agent_id=agent_id, raw=raw),
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


def add_meeting_type(
    session: Session,
    *,
    agent_id: int | None = None,
    team_id: int | None = None,
    horizon_days: int,
    check_place: Callable[[object], Location],
    name: str,
    duration_minutes: int,
    description: str,
    colour: str,
    active: bool,
    rules: Mapping[str, object],
    reminder_minutes: Sequence[int],
    location: object,
) -> MeetingType:
    """Check a new meeting type and add it at the end of its owner's list: an agent's
    (`create_meeting_type`) or a team's (shared.teams.service), the same fields and rules for both.

    The rules are checked against `horizon_days` (the owner's booking horizon), the location by the
    owner's own `check_place` (a team's `google_meet` needs every member's Google Calendar)."""
    checked_rules = check_meeting_type_rules(rules, horizon_days=horizon_days)
    place = NO_LOCATION if location is None else check_place(location)
    owner = MeetingType.team_id == team_id if team_id is not None else MeetingType.agent_id == agent_id
    last = session.scalar(select(func.max(MeetingType.position)).where(owner, MeetingType.deleted_at.is_(None)))
    meeting_type = MeetingType(
        **checked_rules,
        agent_id=agent_id,
        team_id=team_id,
        name=check_name(name),
        duration_minutes=check_duration(duration_minutes),
        description=check_description(description),
        colour=check_colour(colour),
        active=check_active(active),
        reminder_minutes=check_reminder_minutes(reminder_minutes),
        position=0 if last is None else last + 1,
        location_kind=place.kind,
        location_value=place.value,
    )
    session.add(meeting_type)
    session.flush()
    return meeting_type


_CHECKS = {
    "name": check_name,
    "duration_minutes": check_duration,
    "description": check_description,
    "colour": check_colour,
    "active": check_active,
    "reminder_minutes": check_reminder_minutes,
}


def update_meeting_type(
    session: Session, *, meeting_type_id: int, changes: MeetingTypeChanges, agent_id: int | None = None
) -> MeetingType:
    """Change only the given fields; all are checked before any is applied.

    A rule field (notice, buffers, daily maximum) set to None goes back to the agent's setting. A
    change of the buffers changes the time the type's existing bookings occupy, so it takes the
    agent's booking lock like a booking does (which also tells other processes' answer caches).
    """
    meeting_type = get_meeting_type(session, meeting_type_id=meeting_type_id, agent_id=agent_id)
    editable = [*_CHECKS, *MEETING_TYPE_RULE_FIELDS, "location"]
    unknown = sorted(set(changes) - set(editable))
    if unknown:
        raise InvalidMeetingType(f"unknown field {unknown[0]!r}; editable: {', '.join(editable)}")
    checked: dict[str, object] = {key: _CHECKS[key](value) for key, value in changes.items() if key in _CHECKS}
    # Whose time the type's bookings take: its agent, or every member of its team (SPEC §15).
    owners = _owner_ids(session, meeting_type)
    place = (
        check_location_for_agents(session, agent_ids=owners, raw=changes["location"]) if "location" in changes else None
    )
    rule_changes = {key: value for key, value in changes.items() if key in MEETING_TYPE_RULE_FIELDS}
    if rule_changes:
        horizons = [get_agent(session, agent_id=owner).availability.horizon_days for owner in owners]
        checked |= check_meeting_type_rules(rule_changes, horizon_days=max(horizons, default=HORIZON_DAYS_RANGE[1]))
        lock_agents(session, agent_ids=owners)
    for key, value in checked.items():
        setattr(meeting_type, key, value)
    if place is not None:
        meeting_type.location_kind, meeting_type.location_value = place.kind, place.value
    session.flush()
    return meeting_type


def _owner_ids(session: Session, meeting_type: MeetingType) -> list[int]:
    """The agents whose time a type's bookings take: its agent, or the members of its team."""
    if meeting_type.agent_id is not None:
        return [meeting_type.agent_id]
    return list(session.scalars(select(TeamMember.agent_id).where(TeamMember.team_id == meeting_type.team_id)))


def delete_meeting_type(session: Session, *, meeting_type_id: int, now: datetime, agent_id: int | None = None) -> None:
    """Soft delete: the type disappears from lists and the widget; its bookings keep pointing at it."""
    meeting_type = get_meeting_type(session, meeting_type_id=meeting_type_id, agent_id=agent_id)
    meeting_type.deleted_at = now
    meeting_type.active = False
    session.flush()


def reorder_meeting_types(session: Session, *, agent_id: int, ordered_ids: Sequence[int]) -> list[MeetingType]:
    """Put the agent's meeting types in this order; the ids must be all of them, each once."""
    current = list_meeting_types(session, agent_id=agent_id)
    known = {m.id for m in current}
    if len(ordered_ids) != len(set(ordered_ids)) or set(ordered_ids) != known:
        raise InvalidMeetingType(
            f"order must list each of the agent's meeting types once: expected ids {sorted(known)}, "
            f"got {list(ordered_ids)}"
        )
    by_id = {m.id: m for m in current}
    for position, meeting_type_id in enumerate(ordered_ids):
        by_id[meeting_type_id].position = position
    session.flush()
    return [by_id[i] for i in ordered_ids]

"""A team link's availability (SPEC §15), combined from each member's own.

Each member's free starts come from the pure engine under that member's own hours, overrides, notice,
buffers, daily maximum, bookings of every kind (their own, team ones, collective ones they host) and
calendar busy times, with the team type's own rules over the member's the way an agent type's are
(shared.availability.service). Then:
- round robin offers a start when at least one member is free (the union of the members' starts);
- collective offers a start only when every member is free (the intersection).
Inactive members take no calls; a team without an active member offers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shared.availability.busy import BusyTimeSource
from shared.availability.engine import free_slots
from shared.availability.rules import Slot
from shared.availability.service import AgentAvailability, month_range
from shared.models import Agent, MeetingType, Team
from shared.models.team import MODE_COLLECTIVE


def active_members(team: Team) -> list[Agent]:
    """The members who take calls, by ascending agent id (the order of locks and of ties)."""
    return sorted((agent for agent in team.agents if agent.active), key=lambda agent: agent.id)


def combine(mode: str, per_member: Sequence[Iterable[Slot]]) -> list[Slot]:
    """Union (round robin) or intersection (collective) of the members' free slots, by start."""
    if not per_member:
        return []
    sets = [{slot.start: slot for slot in slots} for slots in per_member]
    if mode == MODE_COLLECTIVE:
        common = set(sets[0]).intersection(*sets[1:])
        return [sets[0][start] for start in sorted(common)]
    merged: dict[datetime, Slot] = {}
    for member_slots in sets:
        for start, slot in member_slots.items():
            merged.setdefault(start, slot)
    return [merged[start] for start in sorted(merged)]


def member_free_slots(
    session: Session,
    *,
    agent: Agent,
    meeting_type: MeetingType,
    start: datetime,
    end: datetime,
    now: datetime,
    sources: Sequence[BusyTimeSource],
    fresh: bool = False,
) -> list[Slot]:
    """One member's free slots starting in [start, end) for a team type (the engine, unchanged)."""
    horizon_end = now + timedelta(days=agent.availability.horizon_days)
    if end <= now or start > horizon_end:
        return []
    data = AgentAvailability(
        session,
        agent=agent,
        sources=sources,
        start=max(start, now),
        end=min(end, horizon_end + timedelta(days=1)),
        fresh=fresh,
        meeting_type=meeting_type,
        exact=(end - start) <= timedelta(days=2),
    )
    return free_slots(
        data.rules,
        duration=timedelta(minutes=meeting_type.duration_minutes),
        busy=data.busy,
        now=now,
        range_start=start,
        range_end=end,
        booked_starts=data.booked_per_day,
        type_booked_starts=data.type_booked_per_day,
    )


def team_slots_between(
    session: Session,
    *,
    team: Team,
    meeting_type: MeetingType,
    start: datetime,
    end: datetime,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> list[Slot]:
    members = active_members(team)
    per_member = [
        member_free_slots(
            session, agent=agent, meeting_type=meeting_type, start=start, end=end, now=now, sources=sources
        )
        for agent in members
    ]
    return combine(team.mode, per_member)


def team_available_slots(
    session: Session,
    *,
    team: Team,
    meeting_type: MeetingType,
    day: date,
    display_zone: ZoneInfo,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> list[Slot]:
    """The team's free slots starting on `day` in the invitee's zone."""
    start = datetime.combine(day, time(0), tzinfo=display_zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=display_zone).astimezone(UTC)
    return team_slots_between(
        session, team=team, meeting_type=meeting_type, start=start, end=end, now=now, sources=sources
    )


def team_available_days(
    session: Session,
    *,
    team: Team,
    meeting_type: MeetingType,
    month: str,
    display_zone: ZoneInfo,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> list[date]:
    """Dates of the month (invitee's zone) with at least one team slot: the combined slots, by day
    (for collective, a day where every member is free at different times offers nothing)."""
    first, last = month_range(month)
    start = datetime.combine(first, time(0), tzinfo=display_zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=display_zone).astimezone(UTC)
    slots = team_slots_between(
        session, team=team, meeting_type=meeting_type, start=start, end=end, now=now, sources=sources
    )
    return sorted({slot.start.astimezone(display_zone).date() for slot in slots})

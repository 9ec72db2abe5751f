"""A public booking link is an agent's or a team's (SPEC §15: a team's link works everywhere an
agent's does); this finds which, with the 404 of an unknown, rotated or deleted one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.agents.errors import LinkNotFound
from shared.agents.service import get_agent_by_link
from shared.models import Agent, Team
from shared.teams.service import find_team_by_link


def resolve_link(session: Session, *, link: str) -> Agent | Team:
    """The active agent or the team behind a link; LinkNotFound for anything else."""
    try:
        return get_agent_by_link(session, link=link)
    except LinkNotFound:
        team = find_team_by_link(session, link=link)
        if team is None:
            raise
        return team


def team_timezone(team: Team) -> str:
    """The zone a team's link names before anyone is chosen: its first active member's (UTC if none)."""
    return next((agent.timezone for agent in team.agents if agent.active), "UTC")

"""The booking funnel as the actor may see it: a manager any agent's or all; an agent only their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from shared.accounts.errors import NotYourAgent
from shared.accounts.permissions import Actor, is_manager, require_can_manage_agent
from shared.funnel import service as funnel_service
from shared.funnel.schemas import FunnelResult, Granularity
from shared.models import MeetingType


def funnel(
    session: Session,
    *,
    actor: Actor,
    start: datetime | None,
    end: datetime | None,
    agent_id: int | None = None,
    meeting_type_id: int | None = None,
    granularity: Granularity = "day",
    team_id: int | None = None,
    refresh: Callable[[], object] | None = None,
) -> FunnelResult:
    """`shared.funnel.service.funnel` for these filters; an agent's view is always filtered to themselves."""
    if not is_manager(actor):
        agent_id = actor.id if agent_id is None else agent_id
        require_can_manage_agent(actor, agent_id)
        if meeting_type_id is not None:
            meeting_type = session.get(MeetingType, meeting_type_id)
            if meeting_type is not None and meeting_type.agent_id != actor.id:
                raise NotYourAgent()
    return funnel_service.funnel(
        session,
        start=start,
        end=end,
        agent_id=agent_id,
        meeting_type_id=meeting_type_id,
        granularity=granularity,
        team_id=team_id,
        refresh=refresh,
    )

"""Who takes a round-robin team booking (SPEC §15): of the free members, the one with the fewest
confirmed bookings of this team starting in the last 30 days (a booking already made for a later
date counts too: it was given out in that window), then the one whose latest team booking was made
longest ago (never = first), then the lowest agent id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.models import STATUS_CONFIRMED, Agent, Booking

FAIRNESS_WINDOW = timedelta(days=30)


def round_robin_order(session: Session, *, team_id: int, members: Sequence[Agent], now: datetime) -> list[Agent]:
    """The members in the order they are offered the next booking of the team."""
    if not members:
        return []
    ids = [agent.id for agent in members]
    counts: dict[int, int] = {
        agent_id: count
        for agent_id, count in session.execute(
            select(Booking.agent_id, func.count())
            .where(
                Booking.team_id == team_id,
                Booking.agent_id.in_(ids),
                Booking.status == STATUS_CONFIRMED,
                Booking.start_at >= now - FAIRNESS_WINDOW,
            )
            .group_by(Booking.agent_id)
        )
    }
    latest: dict[int, datetime] = {
        agent_id: made
        for agent_id, made in session.execute(
            select(Booking.agent_id, func.max(Booking.created_at))
            .where(Booking.team_id == team_id, Booking.agent_id.in_(ids), Booking.status == STATUS_CONFIRMED)
            .group_by(Booking.agent_id)
        )
    }

    def key(agent: Agent) -> tuple[int, int, float, int]:
        made = latest.get(agent.id)
        # Never booked through the team sorts first; otherwise the oldest latest booking first.
        return (counts.get(agent.id, 0), 0 if made is None else 1, made.timestamp() if made else 0.0, agent.id)

    return sorted(members, key=key)

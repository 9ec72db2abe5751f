"""The agent's booking lock, in its one home: every write that changes what the agent's time holds
takes it (bookings, cancels and reschedules in shared.booking.service; a meeting type's buffers,
which change the time its existing bookings occupy, in shared.agents.service).

`UPDATE agents SET booking_lock_version = booking_lock_version + 1`: on PostgreSQL a row lock held to
commit; on SQLite the UPDATE takes the database write lock (writers queue on busy_timeout). The bumped
version is also what the availability answer cache compares across processes
(shared.availability.cache `answer_version`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from shared.models import Agent

# Built once, with a bound parameter: building it per request was a measurable share of a booking's CPU.
_LOCK_AGENT = (
    update(Agent)
    .where(Agent.id == bindparam("agent_id"))
    .values(booking_lock_version=Agent.booking_lock_version + 1)
    .returning(Agent.booking_lock_version)
    .execution_options(synchronize_session=False)
)


def lock_agent(session: Session, *, agent_id: int) -> int:
    """Serialise all booking writes of one agent until the transaction ends. Returns the bumped
    version: a caller that read the agent's version before sees whether anyone wrote in between
    (the version it read + 1 = nobody)."""
    version: int = session.execute(_LOCK_AGENT, {"agent_id": agent_id}).scalar_one()
    return version


def lock_agents(session: Session, *, agent_ids: Iterable[int]) -> None:
    """The locks of several agents (a team booking, a team type's buffers), always in ascending id:
    one global order, so a team booking and a direct booking of one member (or two team bookings
    sharing members) queue behind each other and never deadlock."""
    for agent_id in sorted(set(agent_ids)):
        lock_agent(session, agent_id=agent_id)

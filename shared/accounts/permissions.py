"""Who may do what in the dashboard.

A manager sees and edits everything. An agent sees and edits only their own calendar, settings,
meeting types, bookings, funnel and outbox entries. These rules are checked by the service wrappers
in `shared.accounts.scoped`, which are what the dashboard pages call — hiding a widget is never the
only protection.
"""

from __future__ import annotations

from typing import Protocol

from shared.accounts.errors import ManagersOnly, NotYourAgent
from shared.models.agent import ROLE_MANAGER


class Actor(Protocol):
    """The logged-in user: an Agent row, or anything with its id and role."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


def is_manager(actor: Actor) -> bool:
    return actor.role == ROLE_MANAGER


def can_manage_agent(actor: Actor, agent_id: int) -> bool:
    return is_manager(actor) or actor.id == agent_id


def require_can_manage_agent(actor: Actor, agent_id: int) -> None:
    """Forbidden unless the actor is a manager or is this agent."""
    if not can_manage_agent(actor, agent_id):
        raise NotYourAgent()


def require_manager(actor: Actor, what: str) -> None:
    if not is_manager(actor):
        raise ManagersOnly(what)


def visible_agent_ids(actor: Actor) -> list[int] | None:
    """The agents whose data the actor may see: None means all of them (a manager)."""
    return None if is_manager(actor) else [actor.id]

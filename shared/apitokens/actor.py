"""Who is calling the admin API, decided from the bearer token.

`MEETINGS_ADMIN_TOKEN` is the manager scope (everything). An agent's personal token acts as that
agent with the agent's role, exactly as their dashboard login does: an agent sees and changes only
their own data, an agent whose role is manager sees everything. The rules themselves live in
`shared.accounts.permissions`, shared with the dashboard.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.apitokens.service import resolve_token
from shared.models.agent import ROLE_MANAGER

# The admin token belongs to no agent row: id 0 never matches an agent (ids start at 1).
ADMIN_TOKEN_ACTOR_ID = 0


@dataclass(frozen=True)
class ApiActor:
    """An `shared.accounts.permissions.Actor`: the caller's agent id (0 for the admin token) and role."""

    id: int
    role: str


MANAGER = ApiActor(id=ADMIN_TOKEN_ACTOR_ID, role=ROLE_MANAGER)


def actor_for_token(session: Session, *, token: str, admin_token: str) -> ApiActor | None:
    """The manager for the admin token (compared in constant time), the agent for their token, else None."""
    if admin_token and hmac.compare_digest(token.encode("utf-8", "surrogatepass"), admin_token.encode()):
        return MANAGER
    agent = resolve_token(session, token=token)
    if agent is None:
        return None
    return ApiActor(id=agent.id, role=agent.role)

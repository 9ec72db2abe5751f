"""Personal API tokens of agents: issued by managers, revoked by a manager or the agent themselves."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.accounts.permissions import Actor, require_can_manage_agent, require_manager
from shared.apitokens import service as apitokens


def issue_token(session: Session, *, actor: Actor, agent_id: int) -> str:
    """A new token for the agent (shown once); any previous one stops working."""
    require_manager(actor, "issue API tokens")
    return apitokens.issue_token(session, agent_id=agent_id)


def revoke_token(session: Session, *, actor: Actor, agent_id: int) -> bool:
    """Forget the agent's token (it stops working at once); True when there was one."""
    require_can_manage_agent(actor, agent_id)
    return apitokens.revoke_token(session, agent_id=agent_id)

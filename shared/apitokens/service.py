"""Issue, revoke and resolve an agent's personal API token.

The token is shown once, when issued; the database keeps only its SHA-256 (hex), so a leaked
database hands out no live tokens. One token per agent: issuing again replaces the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.agents.service import get_agent
from shared.models import Agent

# A recognisable prefix (secret scanners, logs) in front of 256 random bits.
TOKEN_PREFIX = "mtk_"
MAX_TOKEN_LENGTH = 200


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(session: Session, *, agent_id: int) -> str:
    """A new token for the agent (NotFound for an unknown agent); any previous token stops working."""
    agent = get_agent(session, agent_id=agent_id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    agent.api_token_hash = hash_token(token)
    session.flush()
    return token


def revoke_token(session: Session, *, agent_id: int) -> bool:
    """Forget the agent's token; True when there was one."""
    agent = get_agent(session, agent_id=agent_id)
    had_token = agent.api_token_hash is not None
    agent.api_token_hash = None
    session.flush()
    return had_token


def resolve_token(session: Session, *, token: str) -> Agent | None:
    """The active agent holding this token, or None.

    The lookup is by the token's hash, so how long it takes says nothing about how close a guess
    was; the stored hash is compared once more in constant time.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH or "\x00" in token:
        return None
    digest = hash_token(token)
    agent = session.scalar(select(Agent).where(Agent.api_token_hash == digest))
    if agent is None or agent.api_token_hash is None:
        return None
    if not hmac.compare_digest(agent.api_token_hash, digest) or not agent.active:
        return None
    return agent

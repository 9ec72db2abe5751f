"""Dashboard logins: email + password (Argon2id), and sessions that expire.

The browser keeps only a random session token; the database keeps its SHA-256, so a leaked
database does not hand out live sessions. Sessions last `SESSION_LIFETIME` and logout deletes them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.accounts.errors import InvalidCredentials, WeakPassword
from shared.agents.service import get_agent
from shared.auth.passwords import hash_password, needs_rehash, verify_password
from shared.models import Agent, DashboardSession

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def hash_session_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Verifying against a real hash when the email is unknown keeps both answers equally slow.
    return hash_password(secrets.token_urlsafe(16))


def login(session: Session, *, email: str, password: str, now: datetime) -> str:
    """Check the email and password and open a session; returns the session token for the browser.

    InvalidCredentials (one message) for an unknown email, a wrong password, an account without a
    password or an inactive one. A hash made with weaker parameters is upgraded on the way.
    """
    agent = session.scalar(select(Agent).where(func.lower(Agent.email) == email.strip().lower()))
    if agent is None or not agent.password_hash:
        verify_password(password, _decoy_hash())
        raise InvalidCredentials()
    if not verify_password(password, agent.password_hash) or not agent.active:
        raise InvalidCredentials()
    if needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
    # Housekeeping: this agent's expired sessions are of no use to anyone.
    session.execute(
        delete(DashboardSession).where(DashboardSession.agent_id == agent.id, DashboardSession.expires_at <= now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        DashboardSession(
            token_hash=hash_session_token(token), agent_id=agent.id, created_at=now, expires_at=now + SESSION_LIFETIME
        )
    )
    session.flush()
    return token


def current_user(session: Session, *, token: str | None, now: datetime) -> Agent | None:
    """The active agent whose unexpired session this token opened; None otherwise."""
    if not token:
        return None
    dashboard_session = session.get(DashboardSession, hash_session_token(token))
    if dashboard_session is None or dashboard_session.expires_at <= now:
        return None
    agent = session.get(Agent, dashboard_session.agent_id)
    if agent is None or not agent.active:
        return None
    return agent


def logout(session: Session, *, token: str | None) -> None:
    """End the session (nothing happens for an unknown or already ended one)."""
    if token:
        session.execute(delete(DashboardSession).where(DashboardSession.token_hash == hash_session_token(token)))
        session.flush()


def check_new_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the new password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"the new password must have at most {MAX_PASSWORD_LENGTH} characters")
    return password


def change_password(
    session: Session, *, agent_id: int, current_password: str, new_password: str, keep_token: str | None = None
) -> None:
    """Change one's own password after checking the current one; other sessions of the agent end."""
    agent = get_agent(session, agent_id=agent_id)
    if not verify_password(current_password, agent.password_hash):
        raise InvalidCredentials()
    agent.password_hash = hash_password(check_new_password(new_password))
    query = delete(DashboardSession).where(DashboardSession.agent_id == agent.id)
    if keep_token:
        query = query.where(DashboardSession.token_hash != hash_session_token(keep_token))
    session.execute(query)
    session.flush()


def set_password(session: Session, *, agent_id: int, new_password: str) -> None:
    """Give an agent a password (a manager setting up a login); the agent's sessions end."""
    agent = get_agent(session, agent_id=agent_id)
    agent.password_hash = hash_password(check_new_password(new_password))
    session.execute(delete(DashboardSession).where(DashboardSession.agent_id == agent.id))
    session.flush()

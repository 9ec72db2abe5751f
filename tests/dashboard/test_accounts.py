"""Dashboard logins through shared.accounts.service: Argon2 passwords, hashed tokens, expiry, logout.

The first test runs on every backend (the email lookup is SQL); the rest on SQLite, as their SQL is
the same everywhere and Argon2 makes each login deliberately slow.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.accounts import service as accounts
from shared.accounts.errors import InvalidCredentials, WeakPassword
from shared.auth.passwords import hash_password
from shared.db import session_scope
from shared.models import Agent, DashboardSession
from tests.conftest import DEFAULT_NOW
from tests.factories import make_agent

PASSWORD = "correct horse battery"


def _agent(db: sessionmaker[Session]) -> int:
    with session_scope(db) as session:
        return make_agent(session, email="Ada@Example.com", password_hash=hash_password(PASSWORD)).id


@pytest.fixture
def agent_id(sqlite_db: sessionmaker[Session]) -> int:
    return _agent(sqlite_db)


def _login(db: sessionmaker[Session], email: str, password: str, now: datetime | None = None) -> str:
    with session_scope(db) as session:
        return accounts.login(session, email=email, password=password, now=now or datetime.now(UTC))


def _user(db: sessionmaker[Session], token: str | None, now: datetime | None = None) -> int | None:
    with session_scope(db) as session:
        agent = accounts.current_user(session, token=token, now=now or datetime.now(UTC))
        return None if agent is None else agent.id


def test_login_opens_a_session_stored_only_as_a_hash(db: sessionmaker[Session]) -> None:
    agent_id = _agent(db)
    token = _login(db, " ada@example.com ", PASSWORD)  # email in any case, spaces trimmed

    assert _user(db, token) == agent_id
    with session_scope(db) as session:
        stored = session.scalars(select(DashboardSession)).all()
        assert [s.token_hash for s in stored] == [hashlib.sha256(token.encode()).hexdigest()]
        assert stored[0].expires_at - stored[0].created_at == accounts.SESSION_LIFETIME
        assert session.get(Agent, agent_id).password_hash.startswith("$argon2id$")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong password"), ("nobody@example.com", PASSWORD), ("ada@example.com", "")],
)
def test_wrong_email_or_password_is_refused_without_a_session(
    sqlite_db: sessionmaker[Session], agent_id: int, email: str, password: str
) -> None:
    with pytest.raises(InvalidCredentials, match="wrong email or password"):
        _login(sqlite_db, email, password)
    with session_scope(sqlite_db) as session:
        assert session.scalars(select(DashboardSession)).all() == []


def test_inactive_agents_and_agents_without_password_cannot_sign_in(
    sqlite_db: sessionmaker[Session], agent_id: int
) -> None:
    with session_scope(sqlite_db) as session:
        session.get(Agent, agent_id).active = False  # type: ignore[union-attr]
        make_agent(session, email="nopass@example.com")
    with pytest.raises(InvalidCredentials):
        _login(sqlite_db, "ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):
        _login(sqlite_db, "nopass@example.com", "")


def test_sessions_expire_and_unknown_tokens_are_nobody(sqlite_db: sessionmaker[Session], agent_id: int) -> None:
    token = _login(sqlite_db, "ada@example.com", PASSWORD, now=DEFAULT_NOW)

    assert _user(sqlite_db, token, now=DEFAULT_NOW + accounts.SESSION_LIFETIME - timedelta(seconds=1)) == agent_id
    assert _user(sqlite_db, token, now=DEFAULT_NOW + accounts.SESSION_LIFETIME) is None
    assert _user(sqlite_db, "not-a-token", now=DEFAULT_NOW) is None
    assert _user(sqlite_db, None) is None


def test_logout_ends_only_that_session(sqlite_db: sessionmaker[Session], agent_id: int) -> None:
    first = _login(sqlite_db, "ada@example.com", PASSWORD)
    second = _login(sqlite_db, "ada@example.com", PASSWORD)

    with session_scope(sqlite_db) as session:
        accounts.logout(session, token=first)

    assert _user(sqlite_db, first) is None
    assert _user(sqlite_db, second) == agent_id


def test_deactivating_an_agent_ends_their_sessions(sqlite_db: sessionmaker[Session], agent_id: int) -> None:
    token = _login(sqlite_db, "ada@example.com", PASSWORD)
    with session_scope(sqlite_db) as session:
        session.get(Agent, agent_id).active = False  # type: ignore[union-attr]
    assert _user(sqlite_db, token) is None


def test_change_password_checks_the_old_one_and_signs_out_other_sessions(
    sqlite_db: sessionmaker[Session], agent_id: int
) -> None:
    kept = _login(sqlite_db, "ada@example.com", PASSWORD)
    other = _login(sqlite_db, "ada@example.com", PASSWORD)

    with session_scope(sqlite_db) as session, pytest.raises(InvalidCredentials):
        accounts.change_password(session, agent_id=agent_id, current_password="nope", new_password="a new secret")
    with session_scope(sqlite_db) as session, pytest.raises(WeakPassword):
        accounts.change_password(session, agent_id=agent_id, current_password=PASSWORD, new_password="short")
    with session_scope(sqlite_db) as session:
        accounts.change_password(
            session, agent_id=agent_id, current_password=PASSWORD, new_password="a new secret", keep_token=kept
        )

    assert _user(sqlite_db, kept) == agent_id
    assert _user(sqlite_db, other) is None
    with pytest.raises(InvalidCredentials):
        _login(sqlite_db, "ada@example.com", PASSWORD)
    assert _user(sqlite_db, _login(sqlite_db, "ada@example.com", "a new secret")) == agent_id

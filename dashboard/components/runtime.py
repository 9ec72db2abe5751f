"""The dashboard's plumbing: settings, the database, the signed-in user, actions and messages.

Settings are read from the environment on every script run (cheap) and the engine is a cached
resource keyed by the database URL, so nothing is built at import time and each test's database
(DATABASE_URL set per test) gets its own engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.accounts import service as accounts
from shared.availability.busy import BusyTimeSource
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.errors import MeetingsError
from shared.models import Agent, utcnow
from shared.models.agent import ROLE_MANAGER
from shared.settings import Settings

TOKEN_KEY = "auth_token"
USER_KEY = "signed_in_user"
FLASH_KEY = "flash_message"
# Google sends the agent back to /settings?calendar=connected|error&reason=…&agent_id=…, which opens a
# new, signed-out browser session: the sign-in page keeps the outcome and the router goes on to settings.
CALENDAR_OUTCOME_KEY = "calendar_outcome"
GO_TO_SETTINGS_KEY = "go_to_settings"

T = TypeVar("T")


def settings() -> Settings:
    return Settings()


_engines: list[Engine] = []


@st.cache_resource(show_spinner=False)
def _sessionmaker_for(database_url: str) -> sessionmaker[Session]:
    engine = build_engine(Settings(database_url=database_url))
    _engines.append(engine)
    return build_sessionmaker(engine)


def dispose_engines() -> None:
    """Close every cached engine (the tests' databases live for one test each)."""
    _sessionmaker_for.clear()
    while _engines:
        _engines.pop().dispose()


@st.cache_resource(show_spinner=False)
def _google_busy_for(settings_json: str) -> BusyTimeSource:
    from shared.calendars.google.busy import GoogleBusySource  # the Google libraries load only when used

    # One source per configuration: its short-lived cache of freeBusy answers is shared by every viewer.
    return GoogleBusySource(Settings.model_validate_json(settings_json))


def calendar_busy_source() -> BusyTimeSource | None:
    """Where the week view gets calendar busy times: Google when configured, else nowhere."""
    current = settings()
    return _google_busy_for(current.model_dump_json()) if current.google_configured else None


@contextmanager
def db() -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any exception.

    Never call st.rerun()/st.stop() inside the block: they raise, and the work would be rolled back.
    """
    with session_scope(_sessionmaker_for(settings().database_url)) as session:
        yield session


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user, detached from any database session (satisfies permissions.Actor)."""

    id: int
    name: str
    email: str
    role: str

    @property
    def is_manager(self) -> bool:
        return self.role == ROLE_MANAGER

    @classmethod
    def of(cls, agent: Agent) -> SignedIn:
        return cls(id=agent.id, name=agent.name, email=agent.email, role=agent.role)


def resolve_user() -> SignedIn | None:
    """Who is signed in, checked against the database on every run (expired or ended sessions drop out)."""
    token = st.session_state.get(TOKEN_KEY)
    user: SignedIn | None = None
    if token:
        with db() as session:
            agent = accounts.current_user(session, token=token, now=utcnow())
            user = SignedIn.of(agent) if agent is not None else None
        if user is None:
            del st.session_state[TOKEN_KEY]
    st.session_state[USER_KEY] = user
    return user


def user() -> SignedIn:
    """The signed-in user for a page (app.py resolved it this run); pages never render without one."""
    signed_in: SignedIn | None = st.session_state.get(USER_KEY)
    if signed_in is None:
        st.stop()
    assert signed_in is not None  # st.stop() does not return
    return signed_in


def sign_in(token: str) -> None:
    st.session_state[TOKEN_KEY] = token


def sign_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    with db() as session:
        accounts.logout(session, token=token)
    st.session_state[USER_KEY] = None


def current_token() -> str | None:
    token: str | None = st.session_state.get(TOKEN_KEY)
    return token


def flash(message: str) -> None:
    """A success message shown once at the top of the next run (after st.rerun)."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


def act(
    work: Callable[[Session], T],
    *,
    success: str | None,
    refused: str = "Not saved",
    reset_widgets: Iterable[str] = (),
) -> T | None:
    """Run a change in its own transaction. A domain error is shown (`refused: reason`) and nothing is
    saved; on success the message is flashed and the page reruns to show the new state, with the
    `reset_widgets` forgotten so they show what was stored rather than what was typed."""
    try:
        with db() as session:
            result = work(session)
    except MeetingsError as error:
        st.error(f"{refused}: {error.detail}")
        return None
    if success is not None:
        for key in reset_widgets:
            st.session_state.pop(key, None)
        flash(success)
        st.rerun()
    return result

"""Dashboard fixtures: a database seeded with the demo data, and the real Streamlit app on it.

The demo is seeded once per run into a template (a SQLite file; a PostgreSQL database for the tests
that run on both backends) and each test gets its own copy, so tests never see each other's changes.
The app reads DATABASE_URL from the environment at run time, set per test with monkeypatch.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from dashboard.components import runtime
from shared.accounts import service as accounts
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.demo import DEMO_AGENTS, DEMO_PASSWORD, MANAGER_EMAIL, seed_demo
from shared.migrate import upgrade_to_head
from shared.models import Agent, DashboardSession
from shared.settings import Settings
from tests.pg import ThrowawayPostgres

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
# When the demo was seeded: the demo spreads six weeks of sessions before it and bookings after it.
SEEDED_AT = datetime.now(UTC)
ENV_CLEARED = (
    "SMTP_URL",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "GOOGLE_REDIRECT_URI",
    "MEETINGS_BASE_URL",
)


def _seed(database_url: str) -> None:
    settings = Settings(environment="test", database_url=database_url)
    engine = build_engine(settings)
    try:
        with session_scope(build_sessionmaker(engine)) as session:
            seed_demo(session, now=SEEDED_AT, settings=settings)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def demo_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dashboard-template") / "demo.db"
    upgrade_to_head(f"sqlite:///{path}")
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def demo_postgres_template(postgres_cluster: ThrowawayPostgres, postgres_template: str) -> str:
    name = postgres_cluster.create_database(template=postgres_template)
    _seed(postgres_cluster.url(name))
    return name


@dataclass
class DemoDatabase:
    url: str
    sessions: sessionmaker[Session]

    def agent_id(self, email: str) -> int:
        with session_scope(self.sessions) as session:
            agent_id = session.scalar(select(Agent.id).where(Agent.email == email))
        assert agent_id is not None, email
        return agent_id

    def token(self, email: str, password: str = DEMO_PASSWORD) -> str:
        """A signed-in session of this user, made through the login service."""
        with session_scope(self.sessions) as session:
            return accounts.login(session, email=email, password=password, now=datetime.now(UTC))

    def quick_token(self, email: str) -> str:
        """A session as login() stores it, without spending Argon2's deliberate second on the password
        (the login itself is tested through the page and the service)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with session_scope(self.sessions) as session:
            session.add(
                DashboardSession(
                    token_hash=accounts.hash_session_token(token),
                    agent_id=self.agent_id(email),
                    created_at=now,
                    expires_at=now + accounts.SESSION_LIFETIME,
                )
            )
        return token


def _demo_database(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoDatabase]:
    for name in ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MEETINGS_ENV", "test")
    engine = build_engine(Settings(environment="test", database_url=url))
    try:
        yield DemoDatabase(url=url, sessions=build_sessionmaker(engine))
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, migrated_template: Path) -> Iterator[sessionmaker[Session]]:
    """An empty migrated SQLite database, for service tests whose SQL is the same on every backend."""
    path = tmp_path / "empty.db"
    shutil.copyfile(migrated_template, path)
    engine = build_engine(Settings(environment="test", database_url=f"sqlite:///{path}"))
    try:
        yield build_sessionmaker(engine)
    finally:
        engine.dispose()


@pytest.fixture
def demo_db(tmp_path: Path, demo_sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoDatabase]:
    """A private copy of the seeded demo database (SQLite), which the app under test uses."""
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_sqlite_template, path)
    yield from _demo_database(f"sqlite:///{path}", monkeypatch)


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_db_any_backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DemoDatabase]:
    """The same, on each backend the run covers (MEETINGS_TEST_DATABASES)."""
    from tests.conftest import BACKENDS

    if request.param not in BACKENDS:
        pytest.skip(f"{request.param} not in MEETINGS_TEST_DATABASES")
    if request.param == "postgresql":
        cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
        template: str = request.getfixturevalue("demo_postgres_template")
        url = cluster.url(cluster.create_database(template=template))
    else:
        template_path: Path = request.getfixturevalue("demo_sqlite_template")
        path = tmp_path / "demo.db"
        shutil.copyfile(template_path, path)
        url = f"sqlite:///{path}"
    yield from _demo_database(url, monkeypatch)


AppFactory = Callable[..., AppTest]


@pytest.fixture
def dashboard() -> Iterator[AppFactory]:
    """`dashboard(token=None)`: the real app (dashboard/app.py), optionally with a signed-in session."""

    def build(token: str | None = None) -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=30)
        if token is not None:
            app.session_state["auth_token"] = token
        return app

    yield build
    runtime.dispose_engines()


MANAGER = MANAGER_EMAIL
OLA, JAMES, PRIYA = (agent.email for agent in DEMO_AGENTS)

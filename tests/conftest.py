"""Shared fixtures: a migrated database per test, the app with a pinned clock, an HTTP client.

Each test gets its own copy of a database migrated once per run (SQLite file copy), so tests are
isolated without deleting anything afterwards.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.db import build_engine, build_sessionmaker
from shared.migrate import upgrade_to_head
from shared.settings import Settings
from widget_api.app import create_app

# A Monday morning, so default Mon–Fri 09:00–17:00 availability has slots later today and this week.
DEFAULT_NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
ADMIN_TOKEN = "test-admin-token-0123456789"


class Clock:
    """A clock the tests can pin and move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    path = tmp_path / "meetings.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        base_url="http://testserver",
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret-key-0123456789abcdef",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = build_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> sessionmaker[Session]:
    """A session factory on the test's database (use with shared.db.session_scope)."""
    return build_sessionmaker(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock(DEFAULT_NOW)


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

"""Shared fixtures: a migrated database per test, the app with a pinned clock, an HTTP client.

Every test that uses the database runs twice: on SQLite and on a real PostgreSQL server started for
the run (tests/pg.py). Each test gets its own copy of a database migrated once per run (a SQLite file
copy, or `CREATE DATABASE … TEMPLATE` on PostgreSQL), so tests are isolated without deleting
anything afterwards. MEETINGS_TEST_DATABASES=sqlite (or postgresql) narrows the run to one backend.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import build_engine, build_sessionmaker, session_scope
from shared.migrate import upgrade_to_head
from shared.models import Base
from shared.settings import Settings
from tests.pg import ThrowawayPostgres
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


BACKENDS = [b.strip() for b in os.environ.get("MEETINGS_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_cluster: ThrowawayPostgres) -> str:
    name = postgres_cluster.create_database()
    upgrade_to_head(postgres_cluster.url(name))
    return name


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
        template: str = request.getfixturevalue("postgres_template")
        return cluster.url(cluster.create_database(template=template))
    template_path: Path = request.getfixturevalue("migrated_template")
    path = tmp_path / "meetings.db"
    shutil.copyfile(template_path, path)
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


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole run: Playwright's sync API allows one driver at a time."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def snapshot(db: sessionmaker[Session]) -> Callable[[], Snapshot]:
    """Every row of every table, in primary-key order: equal snapshots mean nothing was written
    (how the tests prove that refused input changed nothing)."""

    def take() -> Snapshot:
        with session_scope(db) as session:
            tables: Snapshot = {}
            for table in Base.metadata.sorted_tables:
                rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
                tables[table.name] = [tuple(row) for row in rows]
            return tables

    return take

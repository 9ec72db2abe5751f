"""Scale-out tests run on PostgreSQL only: several API processes or workers against one database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.db import build_engine, build_sessionmaker
from shared.settings import Settings
from tests.conftest import ADMIN_TOKEN, BACKENDS
from tests.pg import ThrowawayPostgres, postgres_available


@pytest.fixture
def pg_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings on a fresh migrated PostgreSQL database (a copy of the run's template)."""
    if "postgresql" not in BACKENDS or not postgres_available():
        pytest.skip("PostgreSQL is not part of this run (MEETINGS_TEST_DATABASES) or not installed")
    cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
    template: str = request.getfixturevalue("postgres_template")
    return Settings(
        environment="test",
        database_url=cluster.url(cluster.create_database(template=template)),
        base_url="http://testserver",
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret-key-0123456789abcdef",
    )


@pytest.fixture
def pg_db(pg_settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = build_engine(pg_settings)
    yield build_sessionmaker(engine)
    engine.dispose()

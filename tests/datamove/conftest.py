"""A second, empty migrated database of the other backend: the target of a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.pg import ThrowawayPostgres


@pytest.fixture
def target_url(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite source → PostgreSQL target and PostgreSQL source → SQLite target (same backend when only one runs)."""
    want_postgres = database_url.startswith("sqlite") and "postgresql" in BACKENDS
    if not database_url.startswith("sqlite"):
        want_postgres = "sqlite" not in BACKENDS
    if want_postgres:
        cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
        template: str = request.getfixturevalue("postgres_template")
        return cluster.url(cluster.create_database(template=template))
    template_path: Path = request.getfixturevalue("migrated_template")
    path = tmp_path / "target.db"
    shutil.copyfile(template_path, path)
    return f"sqlite:///{path}"

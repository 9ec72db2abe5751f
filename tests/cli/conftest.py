"""An empty database (no schema yet) on each backend, for commands that must create everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.pg import ThrowawayPostgres


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
        return cluster.url(cluster.create_database())
    return f"sqlite:///{tmp_path / 'fresh.db'}"

"""Fixtures for the admin API tests: a whole-database snapshot to prove refused input changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Base

Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def snapshot(db: sessionmaker[Session]) -> Callable[[], Snapshot]:
    """Every row of every table, in primary-key order: equal snapshots mean nothing was written."""

    def take() -> Snapshot:
        with session_scope(db) as session:
            tables: Snapshot = {}
            for table in Base.metadata.sorted_tables:
                rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
                tables[table.name] = [tuple(row) for row in rows]
            return tables

    return take

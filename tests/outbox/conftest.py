"""Fixtures for the outbox worker tests: a job context on the test database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.outbox.contract import JobContext
from shared.settings import Settings

if TYPE_CHECKING:
    from tests.conftest import Clock


@pytest.fixture
def context(settings: Settings, db: sessionmaker[Session], clock: Clock) -> JobContext:
    return JobContext(settings=settings, sessionmaker=db, clock=clock)

"""The answer cache's version of a team link (shared.availability.cache): a change of any member that
another process makes (its booking lock, its rules) changes the version, so no stale team answer is
served across processes; a rotated team link is a 404 before anything cached."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.errors import LinkNotFound, MeetingTypeNotFound
from shared.agents.locks import lock_agent
from shared.availability.cache import answer_version
from shared.db import session_scope
from shared.models import Availability
from tests.teams.helpers import TEAMS, agents, make_team


def test_a_members_lock_or_rules_change_the_team_version(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session], engine: Engine
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])

    def version() -> object:
        with engine.connect() as connection:
            return answer_version(connection, link=team["link"], meeting_type_id=type_id)

    first = version()
    assert version() == first
    with session_scope(db) as session:
        lock_agent(session, agent_id=bob)  # what any booking, cancel or reschedule of Bob does
    second = version()
    assert second != first
    with session_scope(db) as session:
        session.get_one(Availability, ada).min_notice_minutes = 0
    assert version() != second
    with engine.connect() as connection, pytest.raises(MeetingTypeNotFound):
        answer_version(connection, link=team["link"], meeting_type_id=type_id + 1000)
    rotated = client.post(f"{TEAMS}/{team['id']}/link/rotate", headers=admin_headers)
    assert rotated.status_code == 200
    with engine.connect() as connection, pytest.raises(LinkNotFound):
        answer_version(connection, link=team["link"], meeting_type_id=type_id)

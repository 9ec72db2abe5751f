"""The agent services as the dashboard calls them: values the HTTP layer would have refused earlier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.errors import InvalidAgent, InvalidAvailability, InvalidMeetingType
from shared.agents.schemas import AvailabilityInput
from shared.agents.service import (
    create_agent,
    create_meeting_type,
    get_availability,
    list_agents,
    update_availability,
    update_meeting_type,
)
from shared.db import session_scope
from tests.conftest import Snapshot
from tests.factories import committed_agent


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "  "}, "name is required"),
        ({"email": "ada at example.com"}, "'ada at example.com' is not an email address"),
        ({"role": "root"}, "role must be agent or manager, got 'root'"),
    ],
)
def test_create_agent_refuses_what_the_dashboard_and_the_api_refuse(
    db: sessionmaker[Session], snapshot: Callable[[], Snapshot], fields: dict[str, Any], reason: str
) -> None:
    before = snapshot()
    with pytest.raises(InvalidAgent, match=reason), session_scope(db) as session:
        create_agent(session, **{"name": "Ada", "email": "ada@example.com", "timezone": "UTC", **fields})
    assert snapshot() == before


def test_create_agent_stores_name_and_email_stripped(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        agent = create_agent(session, name=" Ada ", email=" ada@example.com ", timezone="UTC")
        assert (agent.name, agent.email) == ("Ada", "ada@example.com")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"timezone": None}, "timezone must be an IANA name, got None"),
        ({"weekly": "mon 9-5"}, "weekly must be an object like"),
        ({"weekly": {"mon": [("09:00", 1700)]}}, 'weekly.mon: end must be "HH:MM"'),
        ({"slot_interval_minutes": True}, "slot_interval_minutes must be a whole number from 5 to 480, got True"),
        ({"horizon_days": 30.5}, "horizon_days must be a whole number from 1 to 730, got 30.5"),
        ({"overrides": {"2026-12-24": []}}, "overrides must be a list"),
    ],
)
def test_update_availability_refuses_bad_values_and_changes_nothing(
    db: sessionmaker[Session], snapshot: Callable[[], Snapshot], fields: dict[str, Any], reason: str
) -> None:
    agent_id, _, _ = committed_agent(db)
    before = snapshot()
    data = AvailabilityInput(**{"timezone": "UTC", "weekly": {}, **fields})
    with pytest.raises(InvalidAvailability) as raised, session_scope(db) as session:
        update_availability(session, agent_id=agent_id, data=data)
    assert reason in raised.value.detail
    assert snapshot() == before


def test_update_availability_accepts_tuples_and_normalises(db: sessionmaker[Session]) -> None:
    agent_id, _, _ = committed_agent(db)
    data = AvailabilityInput(
        timezone="Asia/Kolkata",
        weekly={"sun": (("14:00", "18:00"), ("08:00", "12:30"))},
        max_per_day=3,
        overrides=[{"date": "2026-08-15"}],
    )
    with session_scope(db) as session:
        update_availability(session, agent_id=agent_id, data=data)
    with session_scope(db) as session:
        stored = get_availability(session, agent_id=agent_id)
        assert stored.weekly == {"sun": [["08:00", "12:30"], ["14:00", "18:00"]]}
        assert stored.overrides == [{"date": "2026-08-15", "windows": []}]
        assert stored.max_per_day == 3
        assert [a.timezone for a in list_agents(session)] == ["Asia/Kolkata"]


def test_meeting_type_service_checks_every_field(db: sessionmaker[Session], snapshot: Callable[[], Snapshot]) -> None:
    agent_id, _, types = committed_agent(db)
    before = snapshot()
    reason = "duration_minutes must be a whole number from 5 to 480, got '30'"
    with pytest.raises(InvalidMeetingType, match=reason), session_scope(db) as session:
        create_meeting_type(session, agent_id=agent_id, name="Chat", duration_minutes="30")  # type: ignore[arg-type]
    with pytest.raises(InvalidMeetingType, match="unknown field 'position'"), session_scope(db) as session:
        update_meeting_type(session, meeting_type_id=types["Demo"], changes={"position": 9})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(InvalidMeetingType, match="active must be true or false, got 1"), session_scope(db) as session:
        update_meeting_type(session, meeting_type_id=types["Demo"], changes={"name": "Ok", "active": 1})  # type: ignore[typeddict-item]
    assert snapshot() == before

"""Admin API: PUT availability stores a checked, normalised availability — or refuses and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Agent
from tests.conftest import Snapshot
from tests.factories import committed_agent


def _valid() -> dict[str, Any]:
    return {
        "timezone": "America/New_York",
        "weekly": {"mon": [["13:00", "17:00"], ["09:00", "12:00"]], "sat": [["20:00", "24:00"]]},
        "min_notice_minutes": 60,
        "horizon_days": 30,
        "buffer_before_minutes": 10,
        "buffer_after_minutes": 5,
        "slot_interval_minutes": 15,
        "max_per_day": 4,
        "overrides": [{"date": "2026-12-31", "windows": []}, {"date": "2026-12-24", "windows": [["10:00", "12:00"]]}],
    }


def test_put_availability_returns_the_stored_value(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    response = client.put(f"/api/v1/admin/agents/{agent_id}/availability", json=_valid(), headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "timezone": "America/New_York",
        "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["20:00", "24:00"]]},
        "min_notice_minutes": 60,
        "horizon_days": 30,
        "buffer_before_minutes": 10,
        "buffer_after_minutes": 5,
        "slot_interval_minutes": 15,
        "max_per_day": 4,
        "overrides": [{"date": "2026-12-24", "windows": [["10:00", "12:00"]]}, {"date": "2026-12-31", "windows": []}],
        "change_cutoff_minutes": 0,
    }
    with session_scope(db) as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        assert agent.timezone == "America/New_York"  # the agent's zone follows their hours
        assert agent.availability.weekly["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]


def test_new_hours_change_the_offered_slots(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link, types = committed_agent(db, timezone="Europe/Warsaw")
    body = {"timezone": "Europe/Warsaw", "weekly": {"tue": [["10:00", "11:00"]]}, "min_notice_minutes": 0}
    stored = client.put(f"/api/v1/admin/agents/{agent_id}/availability", json=body, headers=admin_headers)
    assert stored.status_code == 200, stored.text
    slots = client.get(
        f"/api/v1/links/{link}/slots",
        params={"meeting_type_id": types["Demo"], "date": "2026-06-02", "tz": "Europe/Warsaw"},
    ).json()["slots"]
    assert [s["start"] for s in slots] == ["2026-06-02T10:00:00+02:00", "2026-06-02T10:30:00+02:00"]
    monday = client.get(
        f"/api/v1/links/{link}/slots",
        params={"meeting_type_id": types["Demo"], "date": "2026-06-08", "tz": "Europe/Warsaw"},
    ).json()["slots"]
    assert monday == []


def test_omitted_fields_take_the_defaults(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    response = client.put(
        f"/api/v1/admin/agents/{agent_id}/availability", json={"timezone": "UTC", "weekly": {}}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["weekly"] == {}
    assert stored["overrides"] == []
    assert (stored["min_notice_minutes"], stored["horizon_days"], stored["slot_interval_minutes"]) == (240, 60, 30)
    assert stored["max_per_day"] is None
    assert stored["change_cutoff_minutes"] == 0


def test_the_change_cutoff_is_stored_and_answered(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    body = {**_valid(), "change_cutoff_minutes": 120}
    response = client.put(f"/api/v1/admin/agents/{agent_id}/availability", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json()["change_cutoff_minutes"] == 120
    with session_scope(db) as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        assert agent.availability.change_cutoff_minutes == 120


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("unknown zone", {"timezone": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
    ("unknown weekday", {"weekly": {"monday": [["09:00", "17:00"]]}}, "weekly: unknown day 'monday'"),
    ("window not a pair", {"weekly": {"mon": [["09:00"]]}}, "weekly.mon: a window must be a pair"),
    ("day not a list", {"weekly": {"mon": "09:00-17:00"}}, "weekly.mon: expected a list of windows"),
    ("bad start", {"weekly": {"mon": [["9:00", "17:00"]]}}, 'weekly.mon: start must be "HH:MM"'),
    ("bad end", {"weekly": {"mon": [["09:00", "25:00"]]}}, 'weekly.mon: end must be "HH:MM"'),
    ("24:00 start", {"weekly": {"mon": [["24:00", "24:00"]]}}, 'weekly.mon: start must be "HH:MM"'),
    ("end before start", {"weekly": {"tue": [["17:00", "09:00"]]}}, "weekly.tue: end 09:00 must be after start 17:00"),
    ("empty window", {"weekly": {"tue": [["09:00", "09:00"]]}}, "end 09:00 must be after start 09:00"),
    ("midnight end as 00:00", {"weekly": {"fri": [["20:00", "00:00"]]}}, "(use 24:00 for midnight)"),
    (
        "overlapping windows",
        {"weekly": {"wed": [["09:00", "12:00"], ["11:30", "13:00"]]}},
        "weekly.wed: windows 09:00–12:00 and 11:30–13:00 overlap",
    ),
    ("notice negative", {"min_notice_minutes": -1}, "min_notice_minutes must be a whole number from 0 to 43200"),
    ("notice too long", {"min_notice_minutes": 43201}, "min_notice_minutes must be a whole number from 0 to 43200"),
    ("horizon zero", {"horizon_days": 0}, "horizon_days must be a whole number from 1 to 730"),
    ("horizon too long", {"horizon_days": 731}, "horizon_days must be a whole number from 1 to 730"),
    ("buffer before", {"buffer_before_minutes": 481}, "buffer_before_minutes must be a whole number from 0 to 480"),
    ("buffer after", {"buffer_after_minutes": -5}, "buffer_after_minutes must be a whole number from 0 to 480"),
    ("interval small", {"slot_interval_minutes": 4}, "slot_interval_minutes must be a whole number from 5 to 480"),
    ("interval big", {"slot_interval_minutes": 481}, "slot_interval_minutes must be a whole number from 5 to 480"),
    ("max per day zero", {"max_per_day": 0}, "max_per_day must be a whole number from 1 to 100"),
    ("cutoff negative", {"change_cutoff_minutes": -1}, "change_cutoff_minutes must be a whole number from 0 to 43200"),
    ("cutoff too long", {"change_cutoff_minutes": 43201}, "change_cutoff_minutes must be a whole number from 0 to"),
    ("max per day big", {"max_per_day": 101}, "max_per_day must be a whole number from 1 to 100"),
    ("override bad date", {"overrides": [{"date": "2026-02-30", "windows": []}]}, "overrides[0]: date must be a real"),
    ("override date format", {"overrides": [{"date": "24/12/2026", "windows": []}]}, "overrides[0]: date must be"),
    (
        "override duplicate date",
        {"overrides": [{"date": "2026-12-24", "windows": []}, {"date": "2026-12-24", "windows": [["09:00", "10:00"]]}]},
        "overrides[1]: date 2026-12-24 appears more than once",
    ),
    (
        "override overlapping windows",
        {"overrides": [{"date": "2026-12-24", "windows": [["09:00", "11:00"], ["10:00", "12:00"]]}]},
        "overrides[0] (2026-12-24): windows 09:00–11:00 and 10:00–12:00 overlap",
    ),
    ("override unknown key", {"overrides": [{"date": "2026-12-24", "hours": []}]}, "overrides[0]: expected"),
    ("override not an object", {"overrides": ["2026-12-24"]}, "overrides[0]: expected"),
]


@pytest.mark.parametrize(("change", "reason"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_availability_is_refused_with_reason_and_changes_nothing(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    change: dict[str, Any],
    reason: str,
) -> None:
    agent_id, _, _ = committed_agent(db)
    before = snapshot()
    body = {**_valid(), **change}
    response = client.put(f"/api/v1/admin/agents/{agent_id}/availability", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"horizon_days": "60"}, "horizon_days"),
        ({"slot_interval_minutes": True}, "slot_interval_minutes"),
        ({"weekly": [["09:00", "17:00"]]}, "weekly"),
        ({"timezone": None}, "timezone"),
        ({"holidays": []}, "holidays"),
    ],
)
def test_wrong_json_types_are_refused_and_change_nothing(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    change: dict[str, Any],
    field: str,
) -> None:
    agent_id, _, _ = committed_agent(db)
    before = snapshot()
    response = client.put(
        f"/api/v1/admin/agents/{agent_id}/availability", json={**_valid(), **change}, headers=admin_headers
    )
    assert response.status_code == 422, response.text
    assert [item["loc"][-1] for item in response.json()["detail"]] == [field]
    assert snapshot() == before

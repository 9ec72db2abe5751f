"""Factories of the team tests: agents with hours, a team with one meeting type, over the admin API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import committed_agent

TEAMS = "/api/v1/admin/teams"
ALL_WEEK = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def agents(db: sessionmaker[Session], count: int, **overrides: Any) -> list[int]:
    """`count` committed agents (UTC, 09:00–17:00 every day, 1 h notice), their ids ascending."""
    fields: dict[str, Any] = {"timezone": "UTC", "weekly": ALL_WEEK, "min_notice_minutes": 60, **overrides}
    return [committed_agent(db, **fields)[0] for _ in range(count)]


def make_team(
    client: TestClient,
    headers: dict[str, str],
    member_ids: list[int],
    *,
    mode: str = "round_robin",
    name: str = "Sales",
    duration_minutes: int = 30,
    **type_fields: Any,
) -> tuple[dict[str, Any], int]:
    """A team over the admin API and one meeting type of it: (team answer, meeting type id)."""
    response = client.post(TEAMS, json={"name": name, "mode": mode, "member_ids": member_ids}, headers=headers)
    assert response.status_code == 201, response.text
    team = response.json()
    created = client.post(
        f"{TEAMS}/{team['id']}/meeting-types",
        json={"name": "Demo", "duration_minutes": duration_minutes, "reminder_minutes": [], **type_fields},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return team, created.json()["id"]

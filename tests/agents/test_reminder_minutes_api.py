"""`reminder_minutes` of meeting types in the admin API (SPEC §14): a day and an hour for new types,
changed by PATCH, and bad lists refused with the reason, nothing saved."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import committed_agent

ADMIN = "/api/v1/admin"


def test_new_types_remind_a_day_and_an_hour_before_and_patch_changes_it(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, _ = committed_agent(db)
    created = client.post(
        f"{ADMIN}/agents/{agent_id}/meeting-types", json={"name": "Call", "duration_minutes": 30}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["reminder_minutes"] == [1440, 60]
    type_id = created.json()["id"]
    patched = client.patch(
        f"{ADMIN}/meeting-types/{type_id}", json={"reminder_minutes": [15, 2880, 0]}, headers=admin_headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["reminder_minutes"] == [2880, 15, 0]  # earliest first
    none = client.patch(f"{ADMIN}/meeting-types/{type_id}", json={"reminder_minutes": []}, headers=admin_headers)
    assert none.json()["reminder_minutes"] == []
    listed = client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=admin_headers).json()
    assert [t["reminder_minutes"] for t in listed if t["id"] == type_id] == [[]]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([-5], "from 0 to 43200"),
        ([60, 60], "60 appears more than once"),
        ([1, 2, 3, 4, 5, 6], "at most 5 reminders"),
        ([43201], "from 0 to 43200"),
        ([30.5], "whole number"),
        (["60"], "whole number"),
        ([True], "whole number"),
        ("60", "must be a list"),
        (None, "must be a list"),
    ],
)
def test_bad_reminder_minutes_are_refused_and_nothing_is_saved(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], value: object, reason: str
) -> None:
    agent_id, _, types = committed_agent(db)
    type_id = types["Demo"]
    before = client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=admin_headers).json()
    patched = client.patch(
        f"{ADMIN}/meeting-types/{type_id}", json={"name": "Renamed", "reminder_minutes": value}, headers=admin_headers
    )
    assert patched.status_code == 422, patched.text
    assert reason in patched.text
    created = client.post(
        f"{ADMIN}/agents/{agent_id}/meeting-types",
        json={"name": "New", "duration_minutes": 30, "reminder_minutes": value},
        headers=admin_headers,
    )
    assert created.status_code == 422, created.text
    assert reason in created.text
    assert client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=admin_headers).json() == before

"""Admin API and service: meeting types — list, create, edit, delete (soft), reorder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.errors import InvalidMeetingType, MeetingTypeNotFound
from shared.agents.service import list_meeting_types, reorder_meeting_types, update_meeting_type
from shared.db import session_scope
from shared.models import Booking, MeetingType
from tests.conftest import Snapshot
from tests.factories import committed_agent

ADMIN = "/api/v1/admin"


def _names(client: TestClient, agent_id: int, headers: dict[str, str]) -> list[str]:
    return [t["name"] for t in client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=headers).json()]


def test_create_appends_at_the_end_and_lists_inactive_types(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link, _ = committed_agent(db)
    response = client.post(
        f"{ADMIN}/agents/{agent_id}/meeting-types",
        json={
            "name": "Deep dive <API>",
            "duration_minutes": 90,
            "description": "Bring questions & logs",
            "colour": "#AA00ff",
            "active": False,
        },
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {
        "id": created["id"],
        "agent_id": agent_id,
        "name": "Deep dive <API>",
        "duration_minutes": 90,
        "description": "Bring questions & logs",
        "colour": "#aa00ff",
        "active": False,
        "position": 3,
        # The type's own rules: none given, so the agent's apply (SPEC §5).
        "min_notice_minutes": None,
        "buffer_before_minutes": None,
        "buffer_after_minutes": None,
        "max_per_day": None,
        "reminder_minutes": [1440, 60],  # a new type reminds a day and an hour before
        "location": {"kind": "none", "value": None},
    }
    assert _names(client, agent_id, admin_headers) == ["Demo", "Onboarding", "Assistance", "Deep dive <API>"]
    # Inactive: listed for the admin, not offered in the widget.
    public = client.get(f"/api/v1/links/{link}").json()
    assert [t["name"] for t in public["meeting_types"]] == ["Demo", "Onboarding", "Assistance"]


def test_create_with_defaults(client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]) -> None:
    agent_id, link, _ = committed_agent(db)
    response = client.post(
        f"{ADMIN}/agents/{agent_id}/meeting-types", json={"name": "Chat", "duration_minutes": 5}, headers=admin_headers
    )
    assert response.status_code == 201, response.text
    assert (response.json()["description"], response.json()["colour"], response.json()["active"]) == (
        "",
        "#2563eb",
        True,
    )
    public = client.get(f"/api/v1/links/{link}").json()
    assert public["meeting_types"][-1] == {
        "id": response.json()["id"],
        "name": "Chat",
        "duration_minutes": 5,
        "description": "",
        "location": {"kind": "none", "asks_phone": False, "host": None},
        "phone_required": False,
    }


BAD_CREATE: list[tuple[str, dict[str, Any], str]] = [
    ("empty name", {"name": ""}, "name is required"),
    ("blank name", {"name": "   "}, "name is required"),
    ("long name", {"name": "x" * 101}, "name must be at most 100 characters, got 101"),
    ("short", {"duration_minutes": 4}, "duration_minutes must be a whole number from 5 to 480, got 4"),
    ("long", {"duration_minutes": 481}, "duration_minutes must be a whole number from 5 to 480, got 481"),
    ("description", {"description": "d" * 2001}, "description must be at most 2000 characters, got 2001"),
    ("colour name", {"colour": "blue"}, 'colour must be "#rrggbb"'),
    ("colour short", {"colour": "#fff"}, 'colour must be "#rrggbb"'),
]


@pytest.mark.parametrize(("change", "reason"), [c[1:] for c in BAD_CREATE], ids=[c[0] for c in BAD_CREATE])
def test_create_refuses_bad_fields_and_changes_nothing(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    change: dict[str, Any],
    reason: str,
) -> None:
    agent_id, _, _ = committed_agent(db)
    before = snapshot()
    body = {"name": "Chat", "duration_minutes": 30, **change}
    response = client.post(f"{ADMIN}/agents/{agent_id}/meeting-types", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duration_minutes": 30}, "name"),
        ({"name": "Chat"}, "duration_minutes"),
        ({"name": "Chat", "duration_minutes": "30"}, "duration_minutes"),
        ({"name": "Chat", "duration_minutes": 30, "active": "yes"}, "active"),
        ({"name": "Chat", "duration_minutes": 30, "position": 0}, "position"),
    ],
)
def test_create_refuses_wrong_json_and_changes_nothing(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    body: dict[str, Any],
    field: str,
) -> None:
    agent_id, _, _ = committed_agent(db)
    before = snapshot()
    response = client.post(f"{ADMIN}/agents/{agent_id}/meeting-types", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert [item["loc"][-1] for item in response.json()["detail"]] == [field]
    assert snapshot() == before


def test_patch_changes_only_the_fields_sent(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link, types = committed_agent(db)
    response = client.patch(
        f"{ADMIN}/meeting-types/{types['Demo']}", json={"duration_minutes": 60}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    demo = response.json()
    assert (demo["name"], demo["duration_minutes"], demo["colour"], demo["position"]) == ("Demo", 60, "#2563eb", 0)
    assert demo["description"].startswith("A walk through the product")

    off = client.patch(f"{ADMIN}/meeting-types/{types['Onboarding']}", json={"active": False}, headers=admin_headers)
    assert off.json()["active"] is False
    public = client.get(f"/api/v1/links/{link}").json()["meeting_types"]
    assert [(t["name"], t["duration_minutes"]) for t in public] == [("Demo", 60), ("Assistance", 15)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": ""}, "name is required"),
        ({"name": None}, "name is required"),
        ({"duration_minutes": 500}, "duration_minutes must be a whole number from 5 to 480, got 500"),
        ({"duration_minutes": None}, "duration_minutes must be a whole number from 5 to 480, got None"),
        ({"colour": "red"}, 'colour must be "#rrggbb"'),
        ({"active": None}, "active must be true or false"),
        ({"name": "Fine", "description": "d" * 2001}, "description must be at most 2000 characters"),
    ],
)
def test_patch_refuses_bad_fields_and_changes_nothing(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    body: dict[str, Any],
    reason: str,
) -> None:
    _, _, types = committed_agent(db)
    before = snapshot()
    response = client.patch(f"{ADMIN}/meeting-types/{types['Demo']}", json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert snapshot() == before


def test_delete_is_soft_and_bookings_keep_their_type(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link, types = committed_agent(db)
    booked = client.post(
        f"/api/v1/links/{link}/bookings",
        json={
            "meeting_type_id": types["Demo"],
            "start": "2026-06-02T09:00:00+02:00",
            "timezone": "Europe/Warsaw",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company_name": "AE",
            "email": "ada@example.com",
            "description": "",
        },
    )
    assert booked.status_code == 201, booked.text

    response = client.delete(f"{ADMIN}/meeting-types/{types['Demo']}", headers=admin_headers)
    assert response.status_code == 204
    assert response.content == b""
    assert _names(client, agent_id, admin_headers) == ["Onboarding", "Assistance"]
    assert [t["name"] for t in client.get(f"/api/v1/links/{link}").json()["meeting_types"]] == [
        "Onboarding",
        "Assistance",
    ]
    slots = client.get(
        f"/api/v1/links/{link}/slots",
        params={"meeting_type_id": types["Demo"], "date": "2026-06-03", "tz": "Europe/Warsaw"},
    )
    assert slots.status_code == 404

    bookings = client.get("/api/v1/admin/bookings", headers=admin_headers).json()["items"]
    assert bookings[0]["meeting_type"] == {"id": types["Demo"], "name": "Demo", "duration_minutes": 30}
    with session_scope(db) as session:
        demo = session.get(MeetingType, types["Demo"])
        assert demo is not None
        assert demo.deleted_at is not None
        assert session.get(Booking, booked.json()["id"]) is not None

    # Deleted is gone for the admin API too.
    assert client.delete(f"{ADMIN}/meeting-types/{types['Demo']}", headers=admin_headers).status_code == 404
    again = client.patch(f"{ADMIN}/meeting-types/{types['Demo']}", json={"name": "Back"}, headers=admin_headers)
    assert again.status_code == 404
    assert again.json() == {"detail": "meeting type not found"}
    # A new type goes after the remaining ones.
    new = client.post(
        f"{ADMIN}/agents/{agent_id}/meeting-types", json={"name": "New", "duration_minutes": 20}, headers=admin_headers
    )
    assert new.json()["position"] == 3


def test_unknown_meeting_type_is_404_and_changes_nothing(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], snapshot: Callable[[], Snapshot]
) -> None:
    committed_agent(db)
    before = snapshot()
    assert client.patch(f"{ADMIN}/meeting-types/9999", json={"name": "X"}, headers=admin_headers).status_code == 404
    assert client.delete(f"{ADMIN}/meeting-types/9999", headers=admin_headers).status_code == 404
    assert snapshot() == before


def test_reorder_puts_types_in_the_given_order(db: sessionmaker[Session]) -> None:
    agent_id, _, types = committed_agent(db)
    order = [types["Assistance"], types["Demo"], types["Onboarding"]]
    with session_scope(db) as session:
        reordered = reorder_meeting_types(session, agent_id=agent_id, ordered_ids=order)
        assert [m.name for m in reordered] == ["Assistance", "Demo", "Onboarding"]
    with session_scope(db) as session:
        listed = list_meeting_types(session, agent_id=agent_id)
        assert [(m.name, m.position) for m in listed] == [("Assistance", 0), ("Demo", 1), ("Onboarding", 2)]


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(["Demo", "Onboarding"], id="missing one"),
        pytest.param(["Demo", "Demo", "Onboarding", "Assistance"], id="duplicate"),
        pytest.param(["Demo", "Onboarding", "Assistance", "foreign"], id="foreign type"),
    ],
)
def test_reorder_refuses_an_incomplete_or_foreign_order(
    db: sessionmaker[Session], snapshot: Callable[[], Snapshot], order: list[str]
) -> None:
    agent_id, _, types = committed_agent(db)
    _, _, foreign = committed_agent(db)
    ids = {**types, "foreign": foreign["Demo"]}
    before = snapshot()
    reason = "order must list each of the agent's meeting types once"
    with pytest.raises(InvalidMeetingType, match=reason), session_scope(db) as session:
        reorder_meeting_types(session, agent_id=agent_id, ordered_ids=[ids[name] for name in order])
    assert snapshot() == before


def test_an_agent_cannot_edit_another_agents_type(db: sessionmaker[Session]) -> None:
    owner, _, types = committed_agent(db)
    other, _, _ = committed_agent(db)
    with pytest.raises(MeetingTypeNotFound), session_scope(db) as session:
        update_meeting_type(session, meeting_type_id=types["Demo"], changes={"name": "Mine"}, agent_id=other)
    with session_scope(db) as session:
        renamed = update_meeting_type(session, meeting_type_id=types["Demo"], changes={"name": "Ours"}, agent_id=owner)
        assert renamed.name == "Ours"


RULE_FIELDS = ("min_notice_minutes", "buffer_before_minutes", "buffer_after_minutes", "max_per_day")
BAD_RULES = [
    ({"buffer_before_minutes": -5}, "buffer_before_minutes must be a whole number from 0 to 480, got -5"),
    ({"buffer_after_minutes": -1}, "buffer_after_minutes must be a whole number from 0 to 480, got -1"),
    ({"buffer_after_minutes": 481}, "buffer_after_minutes must be a whole number from 0 to 480, got 481"),
    ({"min_notice_minutes": -30}, "min_notice_minutes must be a whole number from 0 to"),
    # The agent's horizon is 60 days: a notice as long as that leaves nothing to book.
    ({"min_notice_minutes": 60 * 24 * 60}, "must be shorter than the agent's booking horizon of 60 days"),
    ({"min_notice_minutes": 90 * 24 * 60}, "must be shorter than the agent's booking horizon of 60 days"),
    ({"max_per_day": 0}, "max_per_day must be a whole number from 1 to 100, got 0"),
    ({"max_per_day": -2}, "max_per_day must be a whole number from 1 to 100, got -2"),
]


def test_a_new_type_uses_the_agents_rules_until_it_sets_its_own(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, _, types = committed_agent(db)
    listed = client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=admin_headers).json()
    assert all(item[field] is None for item in listed for field in RULE_FIELDS)
    own = {"min_notice_minutes": 60, "buffer_before_minutes": 10, "buffer_after_minutes": 20, "max_per_day": 4}
    created = client.post(
        f"{ADMIN}/agents/{agent_id}/meeting-types",
        json={"name": "Audit", "duration_minutes": 40, **own},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert {field: created.json()[field] for field in RULE_FIELDS} == own
    patched = client.patch(
        f"{ADMIN}/meeting-types/{created.json()['id']}",
        json={"buffer_after_minutes": None, "max_per_day": 2},
        headers=admin_headers,
    )
    assert patched.status_code == 200, patched.text
    assert {field: patched.json()[field] for field in RULE_FIELDS} == {
        **own,
        "buffer_after_minutes": None,
        "max_per_day": 2,
    }
    listed = client.get(f"{ADMIN}/agents/{agent_id}/meeting-types", headers=admin_headers).json()
    assert [item for item in listed if item["name"] == "Audit"][0]["max_per_day"] == 2


@pytest.mark.parametrize(("rules", "reason"), BAD_RULES, ids=[str(r) for r, _ in BAD_RULES])
def test_bad_rules_are_a_422_with_the_reason_and_change_nothing(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    rules: dict[str, int],
    reason: str,
) -> None:
    agent_id, _, types = committed_agent(db)
    before = snapshot()
    created = client.post(
        f"{ADMIN}/agents/{agent_id}/meeting-types",
        json={"name": "X", "duration_minutes": 30, **rules},
        headers=admin_headers,
    )
    assert created.status_code == 422, created.text
    assert reason in created.json()["detail"]
    patched = client.patch(
        f"{ADMIN}/meeting-types/{types['Demo']}", json={"name": "Renamed", **rules}, headers=admin_headers
    )
    assert patched.status_code == 422, patched.text
    assert reason in patched.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("value", ["30", 1.5, True, [1]])
def test_rules_of_the_wrong_json_type_are_refused(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], value: Any
) -> None:
    _, _, types = committed_agent(db)
    for field in RULE_FIELDS:
        response = client.patch(f"{ADMIN}/meeting-types/{types['Demo']}", json={field: value}, headers=admin_headers)
        assert response.status_code == 422, (field, value, response.text)


def test_a_notice_is_checked_against_the_agents_own_horizon(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    _, _, types = committed_agent(db, horizon_days=2)
    refused = client.patch(
        f"{ADMIN}/meeting-types/{types['Demo']}", json={"min_notice_minutes": 3 * 24 * 60}, headers=admin_headers
    )
    assert refused.status_code == 422
    assert "horizon of 2 days" in refused.json()["detail"]
    accepted = client.patch(
        f"{ADMIN}/meeting-types/{types['Demo']}", json={"min_notice_minutes": 24 * 60}, headers=admin_headers
    )
    assert accepted.status_code == 200, accepted.text

"""Admin API of teams (SPEC §15) and a team link's public answer: shapes, bad input, scope, rotation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Agent, CalendarConnection
from shared.models.calendar import STATUS_NEEDS_RECONNECT
from tests.conftest import Snapshot
from tests.teams.helpers import TEAMS, agents, make_team


def test_create_team_answers_201_with_members_link_and_no_types(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    response = client.post(
        TEAMS, json={"name": "Sales <EU>", "mode": "round_robin", "member_ids": [bob, ada]}, headers=admin_headers
    )
    assert response.status_code == 201, response.text
    team = response.json()
    assert set(team) >= {"id", "name", "mode", "members", "link", "booking_url"}
    assert (team["name"], team["mode"]) == ("Sales <EU>", "round_robin")
    assert [(m["id"], m["needs_reconnect"]) for m in team["members"]] == [(bob, False), (ada, False)]
    assert all(set(m) >= {"id", "name"} for m in team["members"])
    assert len(team["link"]) >= 22  # ≥ 128 bits, URL-safe
    assert team["booking_url"] == f"http://testserver/b/{team['link']}"
    assert client.get(f"{TEAMS}/{team['id']}/meeting-types", headers=admin_headers).json() == []
    assert client.get(TEAMS, headers=admin_headers).json() == [team]


def test_team_link_answers_team_name_mode_and_its_types_only(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob], mode="collective", name="Support")
    public = client.get(f"/api/v1/links/{team['link']}")
    assert public.status_code == 200, public.text
    body = public.json()
    assert body["team"] == {"name": "Support", "mode": "collective"}
    assert body["agent"]["name"] == "Support"
    assert [m["id"] for m in body["meeting_types"]] == [type_id]
    # An agent's link answers exactly as before: no team key.
    ada_link = client.get(f"{'/api/v1/admin/agents'}", headers=admin_headers).json()[0]["link"]
    assert "team" not in client.get(f"/api/v1/links/{ada_link}").json()


def test_patch_renames_changes_mode_and_members_keeping_order(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob, cy = agents(db, 3)
    team, _ = make_team(client, admin_headers, [ada, bob])
    patched = client.patch(
        f"{TEAMS}/{team['id']}",
        json={"name": "Sales 2", "mode": "collective", "member_ids": [cy, ada]},
        headers=admin_headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["mode"], [m["id"] for m in body["members"]]) == ("Sales 2", "collective", [cy, ada])
    assert body["link"] == team["link"]
    only_name = client.patch(f"{TEAMS}/{team['id']}", json={"name": "Sales 3"}, headers=admin_headers).json()
    assert (only_name["mode"], [m["id"] for m in only_name["members"]]) == ("collective", [cy, ada])


def test_rotated_and_deleted_team_links_answer_404_everywhere(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])
    rotated = client.post(f"{TEAMS}/{team['id']}/link/rotate", headers=admin_headers)
    assert rotated.status_code == 200
    new_link = rotated.json()["link"]
    assert new_link != team["link"]
    old = team["link"]
    booking = {
        "meeting_type_id": type_id,
        "start": "2026-06-02T10:00:00+00:00",
        "timezone": "UTC",
        "first_name": "A",
        "last_name": "B",
        "email": "a@example.com",
    }
    event = {"visitor_id": "v1", "session_id": "s1", "link": old, "name": "calendar_1st_step"}
    for response in (
        client.get(f"/api/v1/links/{old}"),
        client.get(f"/api/v1/links/{old}/days", params={"meeting_type_id": type_id, "month": "2026-06", "tz": "UTC"}),
        client.get(
            f"/api/v1/links/{old}/slots", params={"meeting_type_id": type_id, "date": "2026-06-02", "tz": "UTC"}
        ),
        client.post(f"/api/v1/links/{old}/bookings", json=booking),
        client.post("/api/v1/events", json=event),
        client.get(f"/b/{old}"),
    ):
        assert response.status_code == 404, (response.request.url, response.text)
    assert client.get(f"/api/v1/links/{new_link}").status_code == 200
    assert client.delete(f"{TEAMS}/{team['id']}", headers=admin_headers).status_code == 204
    assert client.get(f"/api/v1/links/{new_link}").status_code == 404
    assert client.get(TEAMS, headers=admin_headers).json() == []
    assert client.patch(f"{TEAMS}/{team['id']}", json={"name": "x"}, headers=admin_headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "T", "mode": "round_robin", "member_ids": [999999]}, "no agent with id 999999"),
        ({"name": "T", "mode": "round_robin", "member_ids": []}, "at least one member"),
        ({"name": "T", "mode": "round_robin", "member_ids": ["ADA", "ADA"]}, "more than once"),
        ({"name": "T", "mode": "round_robin", "member_ids": ["INACTIVE"]}, "inactive"),
        ({"name": "T", "mode": "everyone", "member_ids": ["ADA"]}, "mode must be one of round_robin, collective"),
        ({"name": " ", "mode": "round_robin", "member_ids": ["ADA"]}, "name is required"),
    ],
)
def test_bad_team_input_is_422_with_reason_and_saves_nothing(
    client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    snapshot: Callable[[], Snapshot],
    body: dict[str, object],
    reason: str,
) -> None:
    (ada,) = agents(db, 1)
    (inactive,) = agents(db, 1)
    with session_scope(db) as session:
        session.get_one(Agent, inactive).active = False
    ids = {"ADA": ada, "INACTIVE": inactive}
    body = {**body, "member_ids": [ids.get(i, i) for i in body["member_ids"]]}  # type: ignore[attr-defined]
    before = snapshot()
    response = client.post(TEAMS, json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert reason in response.json()["detail"]
    assert snapshot() == before
    # The same reasons through PATCH of an existing team, which stays as it was.
    team, _ = make_team(client, admin_headers, [ada])
    before = snapshot()
    patched = client.patch(f"{TEAMS}/{team['id']}", json=body, headers=admin_headers)
    assert patched.status_code == 422, patched.text
    assert reason in patched.json()["detail"]
    assert snapshot() == before


def test_team_types_are_edited_and_deleted_through_the_meeting_type_routes(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob], buffer_after_minutes=10)
    listed = client.get(f"{TEAMS}/{team['id']}/meeting-types", headers=admin_headers).json()
    assert [(t["id"], t["agent_id"], t["team_id"], t["buffer_after_minutes"]) for t in listed] == [
        (type_id, None, team["id"], 10)
    ]
    patched = client.patch(
        f"/api/v1/admin/meeting-types/{type_id}", json={"name": "Intro", "max_per_day": 2}, headers=admin_headers
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["max_per_day"]) == ("Intro", 2)
    bad = client.post(
        f"{TEAMS}/{team['id']}/meeting-types", json={"name": "X", "duration_minutes": 2}, headers=admin_headers
    )
    assert bad.status_code == 422
    meet = client.post(
        f"{TEAMS}/{team['id']}/meeting-types",
        json={"name": "X", "duration_minutes": 30, "location": {"kind": "google_meet"}},
        headers=admin_headers,
    )
    assert meet.status_code == 422
    assert "every member" in meet.json()["detail"]
    assert client.delete(f"/api/v1/admin/meeting-types/{type_id}", headers=admin_headers).status_code == 204
    assert client.get(f"{TEAMS}/{team['id']}/meeting-types", headers=admin_headers).json() == []
    assert client.get(f"/api/v1/links/{team['link']}").json()["meeting_types"] == []


def test_members_show_whether_google_needs_reconnecting(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    with session_scope(db) as session:
        session.add(CalendarConnection(agent_id=bob, status=STATUS_NEEDS_RECONNECT, account_email="bob@example.com"))
    team, _ = make_team(client, admin_headers, [ada, bob])
    members = {m["id"]: m for m in team["members"]}
    assert (members[ada]["needs_reconnect"], members[bob]["needs_reconnect"]) == (False, True)
    assert members[bob]["calendar_status"] == "needs_reconnect"


def test_agent_tokens_may_not_touch_teams(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])
    token = client.post(f"/api/v1/admin/agents/{ada}/api-token", headers=admin_headers).json()["token"]
    as_ada = {"Authorization": f"Bearer {token}"}
    assert client.get(TEAMS, headers=as_ada).status_code == 403
    assert (
        client.post(TEAMS, json={"name": "T", "mode": "round_robin", "member_ids": [ada]}, headers=as_ada).status_code
        == 403
    )
    assert client.patch(f"{TEAMS}/{team['id']}", json={"name": "x"}, headers=as_ada).status_code == 403
    assert client.delete(f"{TEAMS}/{team['id']}", headers=as_ada).status_code == 403
    assert client.post(f"{TEAMS}/{team['id']}/link/rotate", headers=as_ada).status_code == 403
    assert client.get(f"{TEAMS}/{team['id']}/meeting-types", headers=as_ada).status_code == 403
    # A team's type is no agent's own: it looks missing to an agent's token, as another agent's does.
    assert client.patch(f"/api/v1/admin/meeting-types/{type_id}", json={"name": "x"}, headers=as_ada).status_code == 404
    assert client.delete(f"/api/v1/admin/meeting-types/{type_id}", headers=as_ada).status_code == 404

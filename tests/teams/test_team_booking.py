"""Booking through a team's link (SPEC §15): who takes it, fairness, collective, idempotency, manage,
the team recorded on events and in the funnel."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Agent, Booking, Event, FunnelSession
from tests.teams.helpers import TEAMS, agents, make_team

DAY = "2026-06-10"


def body(type_id: int, start: str, n: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "meeting_type_id": type_id,
        "start": start,
        "timezone": "UTC",
        "first_name": f"V{n}",
        "last_name": "Visitor",
        "company_name": "Acme",
        "email": f"v{n}@example.com",
        **extra,
    }


def names(db: sessionmaker[Session]) -> dict[int, str]:
    with session_scope(db) as session:
        return {a.id: a.name for a in session.scalars(select(Agent))}


def test_round_robin_spreads_bookings_fairly_and_says_who(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob, cy = agents(db, 3)
    team, type_id = make_team(client, admin_headers, [cy, ada, bob])
    by_name = {v: k for k, v in names(db).items()}
    assigned = []
    for n, hour in enumerate(range(9, 15)):
        response = client.post(
            f"/api/v1/links/{team['link']}/bookings", json=body(type_id, f"{DAY}T{hour:02d}:00:00Z", n)
        )
        assert response.status_code == 201, response.text
        assigned.append(by_name[response.json()["agent"]["name"]])
        assert "agents" not in response.json()
    # Fewest team bookings first, ties to the one booked least recently (never = first), then lowest id.
    assert assigned == [ada, bob, cy, ada, bob, cy]
    with session_scope(db) as session:
        rows = session.scalars(select(Booking).order_by(Booking.id)).all()
        assert {b.team_id for b in rows} == {team["id"]}
        submits = session.scalars(select(Event).where(Event.name == "calendar_4th_step_submit")).all()
        assert {e.team_id for e in submits} == {team["id"]}


def test_round_robin_takes_the_free_member_when_the_fair_one_is_busy(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])
    ada_link = next(
        a["link"] for a in client.get("/api/v1/admin/agents", headers=admin_headers).json() if a["id"] == ada
    )
    ada_demo = client.get(f"/api/v1/links/{ada_link}").json()["meeting_types"][0]["id"]
    start = f"{DAY}T10:00:00Z"
    assert client.post(f"/api/v1/links/{ada_link}/bookings", json=body(ada_demo, start, 1)).status_code == 201
    response = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, start, 2))
    assert response.status_code == 201, response.text
    assert response.json()["agent"]["name"] == names(db)[bob]
    again = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, start, 3))
    assert again.status_code == 409
    off_grid = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, f"{DAY}T10:07:00Z", 4))
    assert off_grid.status_code == 422


def test_collective_books_every_member_and_each_is_busy(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob, cy = agents(db, 3)
    team, type_id = make_team(client, admin_headers, [cy, ada, bob], mode="collective")
    start = f"{DAY}T10:00:00Z"
    response = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, start))
    assert response.status_code == 201, response.text
    who = names(db)
    assert response.json()["agent"] == {"name": who[ada]}
    assert [a["name"] for a in response.json()["agents"]] == [who[ada], who[bob], who[cy]]
    for member in (ada, bob, cy):
        listed = client.get("/api/v1/admin/bookings", params={"agent_id": member}, headers=admin_headers).json()
        assert listed["total"] == 1, member
    assert client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, start, 1)).status_code == 409
    # Any member booked directly at a start blocks the collective there.
    links = {a["id"]: a["link"] for a in client.get("/api/v1/admin/agents", headers=admin_headers).json()}
    cy_demo = client.get(f"/api/v1/links/{links[cy]}").json()["meeting_types"][0]["id"]
    assert (
        client.post(f"/api/v1/links/{links[cy]}/bookings", json=body(cy_demo, f"{DAY}T12:00:00Z", 2)).status_code == 201
    )
    blocked = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, f"{DAY}T12:00:00Z", 3))
    assert blocked.status_code == 409
    # A direct booking of a host at the collective's time is refused.
    assert client.post(f"/api/v1/links/{links[bob]}/bookings", json=body(cy_demo, start, 4)).status_code == 404
    bob_demo = client.get(f"/api/v1/links/{links[bob]}").json()["meeting_types"][0]["id"]
    assert client.post(f"/api/v1/links/{links[bob]}/bookings", json=body(bob_demo, start, 4)).status_code == 409


def test_idempotency_key_returns_the_same_team_booking(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])
    url = f"/api/v1/links/{team['link']}/bookings"
    first = client.post(url, json=body(type_id, f"{DAY}T10:00:00Z"), headers={"Idempotency-Key": "k1"})
    again = client.post(url, json=body(type_id, f"{DAY}T10:00:00Z"), headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = client.post(url, json=body(type_id, f"{DAY}T11:00:00Z"), headers={"Idempotency-Key": "k1"})
    assert other.status_code == 409


def test_reschedule_keeps_the_member_when_free_else_moves_to_a_free_one(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])
    made = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, f"{DAY}T10:00:00Z"))
    assert made.json()["agent"]["name"] == names(db)[ada]
    token = made.json()["manage_url"].rsplit("/", 1)[-1]
    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": f"{DAY}T11:00:00Z"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["agent"]["name"] == names(db)[ada]
    # Ada is taken at 13:00 by a direct booking: the call moves to Bob.
    links = {a["id"]: a["link"] for a in client.get("/api/v1/admin/agents", headers=admin_headers).json()}
    ada_demo = client.get(f"/api/v1/links/{links[ada]}").json()["meeting_types"][0]["id"]
    assert (
        client.post(f"/api/v1/links/{links[ada]}/bookings", json=body(ada_demo, f"{DAY}T13:00:00Z", 5)).status_code
        == 201
    )
    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": f"{DAY}T13:00:00Z"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["agent"]["name"] == names(db)[bob]
    cancelled = client.post(f"/api/v1/bookings/{token}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")


def test_a_member_removed_from_the_team_keeps_their_bookings(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])
    made = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, f"{DAY}T10:00:00Z"))
    assert made.json()["agent"]["name"] == names(db)[ada]
    assert client.patch(f"{TEAMS}/{team['id']}", json={"member_ids": [bob]}, headers=admin_headers).status_code == 200
    listed = client.get("/api/v1/admin/bookings", params={"agent_id": ada}, headers=admin_headers).json()
    assert [(b["id"], b["status"]) for b in listed["items"]] == [(made.json()["id"], "confirmed")]
    token = made.json()["manage_url"].rsplit("/", 1)[-1]
    assert client.get(f"/api/v1/bookings/{token}").json()["agent"]["name"] == names(db)[ada]
    nxt = client.post(f"/api/v1/links/{team['link']}/bookings", json=body(type_id, f"{DAY}T10:00:00Z", 1))
    assert nxt.json()["agent"]["name"] == names(db)[bob]


def test_team_steps_record_the_team_and_the_funnel_filters_by_it(
    client: TestClient, admin_headers: dict[str, str], db: sessionmaker[Session]
) -> None:
    ada, bob = agents(db, 2)
    team, type_id = make_team(client, admin_headers, [ada, bob])
    link = team["link"]
    for name in ("calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step"):
        step = {"visitor_id": "v1", "session_id": "s-team", "link": link, "name": name, "meeting_type_id": type_id}
        assert client.post("/api/v1/events", json=step).status_code == 202
    made = client.post(
        f"/api/v1/links/{link}/bookings", json=body(type_id, f"{DAY}T10:00:00Z", visitor_id="v1", session_id="s-team")
    )
    assert made.status_code == 201
    ada_link = next(
        a["link"] for a in client.get("/api/v1/admin/agents", headers=admin_headers).json() if a["id"] == ada
    )
    step = {"visitor_id": "v2", "session_id": "s-ada", "link": ada_link, "name": "calendar_1st_step"}
    assert client.post("/api/v1/events", json=step).status_code == 202
    with session_scope(db) as session:
        events = session.scalars(select(Event).where(Event.session_id == "s-team")).all()
        assert {e.team_id for e in events} == {team["id"]}
        row = session.get_one(FunnelSession, "s-team")
        assert (row.team_id, row.agent_id, row.top_step) == (team["id"], ada, 4)
    funnel = client.get("/api/v1/admin/funnel", params={"team_id": team["id"]}, headers=admin_headers)
    assert funnel.status_code == 200, funnel.text
    assert [s["sessions"] for s in funnel.json()["steps"]] == [1, 1, 1, 1]  # one session, counted once
    assert funnel.json()["filters"]["team_id"] == team["id"]
    everyone = client.get("/api/v1/admin/funnel", headers=admin_headers).json()
    assert everyone["steps"][0]["sessions"] == 2
    assert "team_id" not in everyone["filters"]
    assert client.get("/api/v1/admin/funnel", params={"team_id": 999999}, headers=admin_headers).status_code == 404

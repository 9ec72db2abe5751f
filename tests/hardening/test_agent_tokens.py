"""Agent-scoped API tokens: an agent's token reaches only that agent's data, on every admin endpoint.

Two agents, Ada (holds the token) and Bob, each with a booking and a contact; a webhook endpoint.
The table below lists every admin endpoint with what Ada's token gets on her own data and on Bob's.
A refused request answers 403 (404 for a meeting type id, as an unknown one) and changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Agent
from tests.factories import committed_agent

GOOD_START = "2026-06-02T09:00:00+02:00"
AVAILABILITY = {
    "timezone": "Europe/Warsaw",
    "weekly": {"mon": [["09:00", "17:00"]]},
    "min_notice_minutes": 60,
    "horizon_days": 30,
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 0,
    "slot_interval_minutes": 30,
    "max_per_day": None,
    "overrides": [],
}
NEW_TYPE = {"name": "Audit", "duration_minutes": 20}
WEBHOOK = {"url": "https://hooks.example.com/meetings", "events": []}


@dataclass
class World:
    ada: int
    bob: int
    ada_type: int
    bob_type: int
    ada_token: str
    webhook: int
    ada_email: str
    bob_email: str
    ada_booking: int = 0
    bob_booking: int = 0


def table_rows(db: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that exists: equal snapshots mean nothing was written."""
    with session_scope(db) as session:
        names = sorted(inspect(session.connection()).get_table_names())
        return {
            name: sorted((tuple(row) for row in session.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
            for name in names
            if name != "alembic_version"
        }


def book(client: TestClient, link: str, type_id: int, email: str) -> int:
    response = client.post(
        f"/api/v1/links/{link}/bookings",
        json={
            "meeting_type_id": type_id,
            "start": GOOD_START,
            "timezone": "Europe/Warsaw",
            "first_name": "Eve",
            "last_name": "Client",
            "company_name": "Co",
            "email": email,
            "description": "hi",
            "visitor_id": "v-" + email.split("@")[0],
            "session_id": "s-" + email.split("@")[0],
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def world(client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]) -> World:
    ada, ada_link, ada_types = committed_agent(db, name="Ada", email="ada@team.example.com")
    bob, bob_link, bob_types = committed_agent(db, name="Bob", email="bob@team.example.com")
    ada_booking = book(client, ada_link, ada_types["Demo"], "client-of-ada@example.com")
    bob_booking = book(client, bob_link, bob_types["Demo"], "client-of-bob@example.com")
    issued = client.post(f"/api/v1/admin/agents/{ada}/api-token", headers=admin_headers)
    assert issued.status_code == 201, issued.text
    webhook = client.post("/api/v1/admin/webhooks", json=WEBHOOK, headers=admin_headers)
    assert webhook.status_code == 201, webhook.text
    return World(
        ada=ada,
        bob=bob,
        ada_type=ada_types["Demo"],
        bob_type=bob_types["Demo"],
        ada_token=issued.json()["token"],
        webhook=webhook.json()["id"],
        ada_booking=ada_booking,
        bob_booking=bob_booking,
        ada_email="client-of-ada@example.com",
        bob_email="client-of-bob@example.com",
    )


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {agent} and {type} are filled with Ada's ids (own) or Bob's (foreign)
    own: int | None  # Ada's token on her own data; None: a manager-only endpoint (always refused)
    foreign: int
    body: dict[str, Any] | None = None


CASES = [
    Case(
        "POST", "/api/v1/admin/agents", None, 403, {"name": "Eve", "email": "eve@team.example.com", "timezone": "UTC"}
    ),
    Case("GET", "/api/v1/admin/agents", 200, 200),
    Case("PUT", "/api/v1/admin/agents/{agent}/availability", 200, 403, AVAILABILITY),
    Case("GET", "/api/v1/admin/agents/{agent}/meeting-types", 200, 403),
    Case("POST", "/api/v1/admin/agents/{agent}/meeting-types", 201, 403, NEW_TYPE),
    Case("PATCH", "/api/v1/admin/meeting-types/{type}", 200, 404, {"name": "Renamed"}),
    Case("DELETE", "/api/v1/admin/meeting-types/{type}", 204, 404),
    Case("POST", "/api/v1/admin/agents/{agent}/link/rotate", 200, 403),
    # Google is not configured in the tests: getting past the scope check answers 503.
    Case("GET", "/api/v1/admin/agents/{agent}/calendar/google/connect", 503, 403),
    # Nothing connected: past the scope check, 404 "no calendar connected".
    Case("DELETE", "/api/v1/admin/agents/{agent}/calendar", 404, 403),
    Case("GET", "/api/v1/admin/bookings?agent_id={agent}", 200, 403),
    Case("POST", "/api/v1/admin/bookings/{booking}/cancel", 200, 403, {"reason": "agent is ill"}),
    Case("GET", "/api/v1/admin/contacts", 200, 200),
    Case("GET", "/api/v1/admin/funnel?agent_id={agent}", 200, 403),
    Case("GET", "/api/v1/admin/funnel?meeting_type_id={type}", 200, 403),
    Case("POST", "/api/v1/admin/agents/{agent}/api-token", None, 403),
    Case("DELETE", "/api/v1/admin/agents/{agent}/api-token", 204, 403),
    Case("GET", "/api/v1/admin/webhooks", None, 403),
    Case("POST", "/api/v1/admin/webhooks", None, 403, WEBHOOK),
    Case("GET", "/api/v1/admin/webhooks/event-types", None, 403),
    Case("GET", "/api/v1/admin/webhooks/deliveries", None, 403),
    Case("GET", "/api/v1/admin/webhooks/{webhook}", None, 403),
    Case("PATCH", "/api/v1/admin/webhooks/{webhook}", None, 403, {"active": False}),
    Case("DELETE", "/api/v1/admin/webhooks/{webhook}", None, 403),
    Case("POST", "/api/v1/admin/webhooks/{webhook}/rotate-secret", None, 403),
    Case("GET", "/api/v1/admin/webhooks/{webhook}/deliveries", None, 403),
]


def fill(case: Case, world: World, *, own: bool) -> str:
    return case.path.format(
        agent=world.ada if own else world.bob,
        type=world.ada_type if own else world.bob_type,
        webhook=world.webhook,
        booking=world.ada_booking if own else world.bob_booking,
    )


def call(client: TestClient, case: Case, path: str, token: str) -> Any:
    return client.request(case.method, path, json=case.body, headers={"Authorization": f"Bearer {token}"})


def test_the_table_covers_every_admin_endpoint(client: TestClient) -> None:
    routes = {
        (method, route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/api/v1/admin")
        for method in route.methods
    }
    covered = {
        (
            case.method,
            case.path.split("?")[0]
            .replace("{agent}", "{agent_id}")
            .replace("{webhook}", "{endpoint_id}")
            .replace("{booking}", "{booking_id}")
            .replace("{type}", "{meeting_type_id}"),
        )
        for case in CASES
    }
    assert routes - covered == set()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_an_agent_token_is_refused_on_foreign_data_and_changes_nothing(
    client: TestClient, db: sessionmaker[Session], world: World, case: Case
) -> None:
    before = table_rows(db)
    response = call(client, case, fill(case, world, own=False), world.ada_token)
    assert response.status_code == case.foreign, response.text
    assert table_rows(db) == before
    if case.foreign != 200:
        assert isinstance(response.json()["detail"], str)
    if case.foreign == 403:
        assert "only" in response.json()["detail"]


@pytest.mark.parametrize("case", [c for c in CASES if c.own is None], ids=lambda c: f"{c.method} {c.path}")
def test_manager_only_endpoints_refuse_an_agent_token_on_their_own_data_too(
    client: TestClient, db: sessionmaker[Session], world: World, case: Case
) -> None:
    before = table_rows(db)
    response = call(client, case, fill(case, world, own=True), world.ada_token)
    assert response.status_code == 403, response.text
    assert response.json()["detail"].startswith("only managers may")
    assert table_rows(db) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.own is not None], ids=lambda c: f"{c.method} {c.path}")
def test_an_agent_token_works_on_its_own_data(client: TestClient, world: World, case: Case) -> None:
    assert case.own is not None
    response = call(client, case, fill(case, world, own=True), world.ada_token)
    assert response.status_code == case.own, response.text
    if case.own == 404:  # past the scope check: the reason is about the calendar, not the caller
        assert response.json()["detail"] != ""
        assert "only" not in response.json()["detail"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_the_admin_token_reaches_everyones_data(
    client: TestClient, world: World, admin_headers: dict[str, str], case: Case
) -> None:
    response = client.request(case.method, fill(case, world, own=False), json=case.body, headers=admin_headers)
    assert response.status_code not in (401, 403), response.text
    assert response.status_code < 500 or (response.status_code == 503 and "google" in case.path)


def test_lists_show_an_agent_only_their_own(client: TestClient, world: World) -> None:
    headers = {"Authorization": f"Bearer {world.ada_token}"}
    agents = client.get("/api/v1/admin/agents", headers=headers).json()
    assert [a["id"] for a in agents] == [world.ada]
    bookings = client.get("/api/v1/admin/bookings", headers=headers).json()
    assert bookings["total"] == 1
    assert {b["agent"]["id"] for b in bookings["items"]} == {world.ada}
    contacts = client.get("/api/v1/admin/contacts", headers=headers).json()
    assert [c["email"] for c in contacts] == [world.ada_email]
    assert client.get("/api/v1/admin/contacts", params={"email": world.bob_email}, headers=headers).json() == []
    funnel = client.get("/api/v1/admin/funnel", headers=headers).json()
    assert funnel["filters"]["agent_id"] == world.ada


def test_the_token_is_shown_once_and_only_its_sha256_is_stored(
    client: TestClient, db: sessionmaker[Session], world: World, admin_headers: dict[str, str]
) -> None:
    with session_scope(db) as session:
        stored = session.scalar(select(Agent.api_token_hash).where(Agent.id == world.ada))
    assert stored == hashlib.sha256(world.ada_token.encode()).hexdigest()
    listing = client.get("/api/v1/admin/agents", headers=admin_headers).text
    assert world.ada_token not in listing
    assert (stored or "x") not in listing


def test_reissue_replaces_and_revoke_ends_the_token(
    client: TestClient, world: World, admin_headers: dict[str, str]
) -> None:
    def status_with(token: str) -> int:
        return client.get("/api/v1/admin/agents", headers={"Authorization": f"Bearer {token}"}).status_code

    new = client.post(f"/api/v1/admin/agents/{world.ada}/api-token", headers=admin_headers).json()["token"]
    assert (status_with(world.ada_token), status_with(new)) == (403, 200)
    revoked = client.delete(f"/api/v1/admin/agents/{world.ada}/api-token", headers={"Authorization": f"Bearer {new}"})
    assert revoked.status_code == 204
    assert status_with(new) == 403


def test_a_deactivated_agents_token_stops_working(client: TestClient, db: sessionmaker[Session], world: World) -> None:
    with session_scope(db) as session:
        agent = session.get(Agent, world.ada)
        assert agent is not None
        agent.active = False
    response = client.get("/api/v1/admin/agents", headers={"Authorization": f"Bearer {world.ada_token}"})
    assert response.status_code == 403


def test_a_manager_role_agent_token_has_manager_scope_as_in_the_dashboard(
    client: TestClient, db: sessionmaker[Session], world: World, admin_headers: dict[str, str]
) -> None:
    boss, _, _ = committed_agent(db, name="Boss", email="boss@team.example.com", role="manager")
    token = client.post(f"/api/v1/admin/agents/{boss}/api-token", headers=admin_headers).json()["token"]
    agents = client.get("/api/v1/admin/agents", headers={"Authorization": f"Bearer {token}"}).json()
    assert {world.ada, world.bob, boss} <= {a["id"] for a in agents}


def test_issuing_for_an_unknown_agent_is_404_and_an_unknown_token_403(
    client: TestClient, db: sessionmaker[Session], world: World, admin_headers: dict[str, str]
) -> None:
    before = table_rows(db)
    assert client.post("/api/v1/admin/agents/999999/api-token", headers=admin_headers).status_code == 404
    for guess in ("mtk_" + secrets.token_urlsafe(32), world.ada_token[:-1], world.ada_token + "x", "x" * 5000):
        response = client.get("/api/v1/admin/agents", headers={"Authorization": f"Bearer {guess}"})
        assert (response.status_code, response.json()) == (403, {"detail": "invalid admin token"})
    assert table_rows(db) == before


# --- manage tokens and booking links are not enumerable -------------------------------------------------

# Not "..": a client folds it away before sending (the path then names no route at all).
MALFORMED = ["a", "%00", "%20", "x" * 3000, "%E2%80%AE", "'%20OR%20'1'='1", "%3Cscript%3E", "-_-", "%F0%9F%98%80"]


@pytest.mark.parametrize(
    "template",
    [
        "/api/v1/bookings/{}",
        "/api/v1/bookings/{}/ics",
        "/api/v1/links/{}",
        "/api/v1/links/{}/days?meeting_type_id=1&month=2026-06&tz=UTC",
        "/api/v1/links/{}/slots?meeting_type_id=1&date=2026-06-02&tz=UTC",
        "/manage/{}",
        "/b/{}",
    ],
)
def test_unknown_and_malformed_tokens_and_links_get_the_same_404(
    client: TestClient, db: sessionmaker[Session], template: str
) -> None:
    committed_agent(db)
    before = table_rows(db)
    unknown = client.get(template.format(secrets.token_urlsafe(32)))
    assert unknown.status_code == 404
    for value in MALFORMED:
        response = client.get(template.format(value))
        assert (response.status_code, response.text) == (404, unknown.text), value
    assert table_rows(db) == before


@pytest.mark.parametrize("action", ["cancel", "reschedule"])
def test_changing_an_unknown_or_malformed_booking_gets_the_same_404(
    client: TestClient, db: sessionmaker[Session], action: str
) -> None:
    before = table_rows(db)
    body = {"start": GOOD_START} if action == "reschedule" else {}
    unknown = client.post(f"/api/v1/bookings/{secrets.token_urlsafe(32)}/{action}", json=body)
    assert unknown.status_code == 404
    for value in MALFORMED:
        response = client.post(f"/api/v1/bookings/{value}/{action}", json=body)
        assert (response.status_code, response.json()) == (404, unknown.json()), value
    assert table_rows(db) == before

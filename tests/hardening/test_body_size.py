"""Request bodies over MEETINGS_MAX_BODY_BYTES get 413, counted as they arrive, before any work is done."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, Contact, Event
from shared.settings import Settings
from tests.factories import committed_agent
from tests.hardening.conftest import ClientFactory, booking_body
from tests.live import running_api

LIMIT = 65_536


def _nothing_written(db: sessionmaker[Session]) -> bool:
    with session_scope(db) as session:
        return all(session.scalar(select(func.count()).select_from(m)) == 0 for m in (Booking, Event, Contact))


def test_an_oversized_booking_is_refused_with_413(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    body = booking_body(types["Demo"], "2026-06-02T09:00:00+02:00", description="x" * (LIMIT + 1))
    response = client.post(f"/api/v1/links/{link}/bookings", json=body)
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body too large: at most {LIMIT} bytes"}
    assert _nothing_written(db)


def test_a_body_just_under_the_limit_reaches_validation(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    body = booking_body(types["Demo"], "2026-06-02T09:00:00+02:00", description="")
    body["description"] = "x" * (LIMIT - len(json.dumps(body)))
    assert len(json.dumps(body)) == LIMIT
    response = client.post(f"/api/v1/links/{link}/bookings", json=body)
    assert response.status_code == 422  # description ≤ 2000: refused by the schema, not the size limit
    assert _nothing_written(db)


def test_a_declared_length_that_lies_does_not_get_a_big_body_through(client: TestClient) -> None:
    # Content-Length says 10 bytes; 100 KB follow. The bytes are counted, not the header.
    response = client.post(
        "/api/v1/events",
        content=b"{" + b" " * 100_000 + b"}",
        headers={"Content-Type": "application/json", "Content-Length": "10"},
    )
    assert response.status_code == 413


def test_the_limit_applies_to_the_admin_api_and_is_configurable(
    client: TestClient, admin_headers: dict[str, str], make_client: ClientFactory, limited_settings: Settings
) -> None:
    big = {"name": "x" * 70_000, "email": "a@example.com", "timezone": "UTC"}
    assert client.post("/api/v1/admin/agents", json=big, headers=admin_headers).status_code == 413
    with make_client(limited_settings, max_body_bytes=2048) as small:
        assert small.post("/api/v1/events", content=b"[" + b"0," * 1100 + b"0]").status_code == 413
        assert small.post("/api/v1/events", json={"name": "x"}).status_code == 422


def test_a_chunked_body_without_length_is_cut_off_on_a_real_server(
    database_url: str, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    head = json.dumps(booking_body(types["Demo"], "2026-06-02T09:00:00+02:00", description=""))[:-2]

    def chunks() -> Iterator[bytes]:
        yield head.encode()
        for _ in range(40):
            yield b"y" * 4096  # 160 KB in all, with no Content-Length (Transfer-Encoding: chunked)
        yield b'"}'

    with running_api(database_url) as base_url:
        response = httpx.post(
            f"{base_url}/api/v1/links/{link}/bookings",
            content=chunks(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("request body too large")
    assert _nothing_written(db)

"""Signed webhooks delivered by the real worker to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.contacts.service import contact_for_visitor, record_event
from shared.db import session_scope
from shared.models import OutboxJob, WebhookDelivery
from shared.models.outbox import JOB_DONE, JOB_FAILED, JOB_PENDING
from shared.notifications import webhooks
from shared.notifications.webhooks import WEBHOOK_JOB
from shared.settings import Settings
from tests.factories import committed_agent
from tests.notifications.conftest import WebhookReceiver, book, drain, manage_token, with_settings

START = "2026-06-02T09:00:00+02:00"


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver-side check documented in shared/notifications/webhook_delivery.py."""
    timestamp = headers["X-Meetings-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Meetings-Signature"].removeprefix("sha256="))


def _create_endpoint(client: TestClient, headers: dict[str, str], url: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/admin/webhooks", json={"url": url, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _webhook_jobs(db: sessionmaker[Session]) -> list[OutboxJob]:
    with session_scope(db) as session:
        return list(session.scalars(select(OutboxJob).where(OutboxJob.kind == WEBHOOK_JOB).order_by(OutboxJob.id)))


def test_booking_events_are_delivered_signed(
    admin_client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    endpoint = _create_endpoint(admin_client, admin_headers, webhook_receiver.url)
    assert endpoint["secret"].startswith("whsec_")
    _, link, types = committed_agent(db, name="Grace Hopper")
    token = manage_token(book(admin_client, link, types["Demo"], START, first_name="<Ada>"))
    admin_client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-02T10:00:00+02:00"})
    admin_client.post(f"/api/v1/bookings/{token}/cancel", json={"reason": "no longer needed"})

    drain(with_settings(settings, webhook_allow_private=True))

    # An endpoint with no filter gets every event: the submit step is written with the booking.
    assert [r.headers["X-Meetings-Event"] for r in webhook_receiver.received] == [
        "calendar_4th_step_submit",
        "booking.created",
        "booking.rescheduled",
        "booking.cancelled",
    ]
    for request in webhook_receiver.received:
        assert request.path == "/hooks"
        assert request.headers["Content-Type"] == "application/json"
        assert _verify(endpoint["secret"], request.headers, request.body)
        assert not _verify("whsec_another-secret", request.headers, request.body)
        body = request.json()
        assert set(body) == {"id", "type", "created_at", "data"}
        assert body["type"] == request.headers["X-Meetings-Event"]
        assert body["id"] == request.headers["X-Meetings-Delivery"]
    created, rescheduled, cancelled = (r.json()["data"]["booking"] for r in webhook_receiver.received[1:])
    assert created["first_name"] == "<Ada>"
    assert created["start"] == "2026-06-02T07:00:00+00:00"
    assert created["agent"]["name"] == "Grace Hopper"
    assert created["meeting_type"] == {"id": types["Demo"], "name": "Demo", "duration_minutes": 30}
    assert (rescheduled["start"], rescheduled["sequence"]) == ("2026-06-02T08:00:00+00:00", 1)
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "no longer needed")

    log = admin_client.get(f"/api/v1/admin/webhooks/{endpoint['id']}/deliveries", headers=admin_headers).json()
    assert sorted((d["event"], d["status_code"], d["attempt"]) for d in log) == [
        ("booking.cancelled", 200, 1),
        ("booking.created", 200, 1),
        ("booking.rescheduled", 200, 1),
        ("calendar_4th_step_submit", 200, 1),
    ]


def test_a_500_is_retried_with_the_same_event_id_then_delivered(
    admin_client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    endpoint = _create_endpoint(admin_client, admin_headers, webhook_receiver.url, events=["booking.created"])
    webhook_receiver.statuses.extend([500])
    _, link, types = committed_agent(db)
    book(admin_client, link, types["Demo"], START)
    worker_settings = with_settings(settings, webhook_allow_private=True)

    drain(worker_settings)
    (job,) = _webhook_jobs(db)
    assert job.status == JOB_PENDING
    assert "500" in (job.last_error or "")

    drain(worker_settings, later=dt.timedelta(hours=1))
    (job,) = _webhook_jobs(db)
    assert job.status == JOB_DONE
    first, second = webhook_receiver.received
    assert first.json()["id"] == second.json()["id"]
    assert first.body == second.body
    assert _verify(endpoint["secret"], second.headers, second.body)
    with session_scope(db) as session:
        log = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        assert [(d.attempt, d.status_code) for d in log] == [(1, 500), (2, 200)]


def test_a_4xx_fails_without_retry(
    admin_client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    _create_endpoint(admin_client, admin_headers, webhook_receiver.url, events=["booking.created"])
    webhook_receiver.statuses.extend([410])
    _, link, types = committed_agent(db)
    book(admin_client, link, types["Demo"], START)
    worker_settings = with_settings(settings, webhook_allow_private=True)
    drain(worker_settings)
    drain(worker_settings, later=dt.timedelta(hours=3))
    (job,) = _webhook_jobs(db)
    assert job.status == JOB_FAILED
    assert "410" in (job.last_error or "")
    assert len(webhook_receiver.received) == 1


def test_private_target_is_refused_unless_allowed(
    client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    # Endpoints on loopback were allowed once (e.g. configured while the flag was on) …
    with session_scope(db) as session:
        endpoint_id = webhooks.create_endpoint(session, url=webhook_receiver.url, allow_private=True).id
    _, link, types = committed_agent(db)
    book(client, link, types["Demo"], START)

    # … but the worker runs with the default: no private targets.
    drain(settings)
    drain(settings, later=dt.timedelta(hours=3))
    assert webhook_receiver.received == []
    jobs = _webhook_jobs(db)  # the submit step and booking.created
    assert [job.payload["type"] for job in jobs] == ["calendar_4th_step_submit", "booking.created"]
    assert {job.status for job in jobs} == {JOB_FAILED}
    with session_scope(db) as session:
        entries = session.scalars(select(WebhookDelivery)).all()
        assert len(entries) == 2
        for entry in entries:
            assert entry.endpoint_id == endpoint_id
            assert entry.status_code is None
            assert "loopback" in (entry.error or "")


def test_admin_api_refuses_private_and_non_http_urls_by_default(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "ftp://example.com/x",
        "not a url",
    ):
        response = client.post("/api/v1/admin/webhooks", json={"url": url}, headers=admin_headers)
        assert response.status_code == 422, (url, response.text)
    response = client.post(
        "/api/v1/admin/webhooks", json={"url": "https://hooks.example.com/x", "events": ["nope"]}, headers=admin_headers
    )
    assert response.status_code == 422
    assert "nope" in response.json()["detail"]


def test_endpoint_crud_and_auth(admin_client: TestClient, admin_headers: dict[str, str]) -> None:
    base = "/api/v1/admin/webhooks"
    assert admin_client.get(base).status_code == 401
    assert admin_client.get(base, headers={"Authorization": "Bearer wrong"}).status_code == 403
    types = admin_client.get(f"{base}/event-types", headers=admin_headers).json()["events"]
    assert "booking.created" in types
    assert "calendar_4th_step_submit" in types

    created = _create_endpoint(
        admin_client,
        admin_headers,
        "https://hooks.example.com/in",
        events=["booking.created"],
        secret="a-secret-of-twenty-chars",
    )
    listed = admin_client.get(base, headers=admin_headers).json()
    assert listed == [
        {
            "id": created["id"],
            "url": "https://hooks.example.com/in",
            "events": ["booking.created"],
            "active": True,
            "created_at": created["created_at"],
            "secret_hint": "hars",
        }
    ]
    patched = admin_client.patch(
        f"{base}/{created['id']}", json={"active": False, "events": []}, headers=admin_headers
    ).json()
    assert (patched["active"], patched["events"]) == (False, [])
    rotated = admin_client.post(f"{base}/{created['id']}/rotate-secret", headers=admin_headers).json()
    assert rotated["secret"] != "a-secret-of-twenty-chars"
    assert admin_client.delete(f"{base}/{created['id']}", headers=admin_headers).status_code == 204
    assert admin_client.get(f"{base}/{created['id']}", headers=admin_headers).status_code == 404


def test_step_events_and_event_filters(
    admin_client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    _create_endpoint(admin_client, admin_headers, webhook_receiver.url + "?steps", events=["calendar_1st_step"])
    _create_endpoint(admin_client, admin_headers, webhook_receiver.url + "?cancel", events=["booking.cancelled"])
    agent_id, link, types = committed_agent(db)
    with session_scope(db) as session:
        contact = contact_for_visitor(session, visitor_id="v-9")
        for name in ("calendar_1st_step", "booking_confirmed"):
            event = record_event(
                session,
                name=name,
                contact_id=contact.id,
                agent_id=agent_id,
                meeting_type_id=types["Demo"],
                session_id="s-9",
                visitor_id="v-9",
                occurred_at=dt.datetime.now(dt.UTC),
            )
            webhooks.plan_event_webhooks(session, event=event, now=event.occurred_at)
            webhooks.plan_event_webhooks(session, event=event, now=event.occurred_at)  # planning twice is one delivery
    book(admin_client, link, types["Demo"], START)  # booking.created: no endpoint wants it

    drain(with_settings(settings, webhook_allow_private=True))
    (step,) = webhook_receiver.received
    assert step.path == "/hooks?steps"
    body = step.json()
    assert body["type"] == "calendar_1st_step"
    assert body["data"]["event"]["session_id"] == "s-9"
    assert body["data"]["event"]["agent_id"] == agent_id

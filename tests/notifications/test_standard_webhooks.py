"""Standard Webhooks headers on every delivery, verified by the `standardwebhooks` library itself."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.db import session_scope
from shared.models import WebhookEndpoint
from shared.notifications.webhook_delivery import standard_key
from shared.settings import Settings
from tests.factories import committed_agent
from tests.notifications.conftest import WebhookReceiver, book, drain, manage_token, with_settings

START = "2026-06-02T09:00:00+02:00"


def test_every_delivery_verifies_with_standardwebhooks_and_the_secret_as_issued(
    admin_client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    webhook_receiver: WebhookReceiver,
) -> None:
    response = admin_client.post("/api/v1/admin/webhooks", json={"url": webhook_receiver.url}, headers=admin_headers)
    secret = response.json()["secret"]
    assert secret.startswith("whsec_")
    _, link, types = committed_agent(db)
    token = manage_token(book(admin_client, link, types["Demo"], START))
    admin_client.post(f"/api/v1/bookings/{token}/cancel", json={})
    drain(with_settings(settings, webhook_allow_private=True))

    assert len(webhook_receiver.received) == 3  # the submit step, booking.created, booking.cancelled
    receiver = Webhook(secret)
    for request in webhook_receiver.received:
        payload = receiver.verify(request.body, request.headers)
        assert payload["type"] == request.headers["X-Meetings-Event"]
        # The X-Meetings-* headers stay, with the same id and timestamp.
        assert request.headers["webhook-id"] == request.headers["X-Meetings-Delivery"] == payload["id"]
        assert request.headers["webhook-timestamp"] == request.headers["X-Meetings-Timestamp"]
        assert request.headers["webhook-signature"].startswith("v1,")
        assert request.headers["X-Meetings-Signature"].startswith("sha256=")
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "QUJD" * 11).verify(request.body, request.headers)  # another secret
        with pytest.raises(WebhookVerificationError):
            receiver.verify(request.body.replace(b'"id"', b'"Id"'), request.headers)  # a changed body
        with pytest.raises(WebhookVerificationError):
            receiver.verify(request.body, {**request.headers, "webhook-id": "evt_other"})  # another id


@pytest.mark.parametrize(
    ("secret", "receiver_key"),
    [
        # url-safe, the form made before: the library decodes most of them as they are…
        ("whsec_rY0DR1_5kT1lL2-3zQmG0tX8e6s9sS2h_8vJ0pqFZgw", None),
        # …and refuses the others (a length it cannot decode): those are keyed with their own bytes.
        ("whsec_rY0DR1_5kT1lL2-3zQmG0tX8e6s9sS2hF8vJ0pqFZgw", b"rY0DR1_5kT1lL2-3zQmG0tX8e6s9sS2hF8vJ0pqFZgw"),
        ("a-secret-of-twenty-chars", None),  # given by hand, without the prefix
    ],
)
def test_secrets_of_the_older_forms_verify_unchanged_too(
    admin_client: TestClient,
    admin_headers: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    webhook_receiver: WebhookReceiver,
    secret: str,
    receiver_key: bytes | None,
) -> None:
    response = admin_client.post("/api/v1/admin/webhooks", json={"url": webhook_receiver.url}, headers=admin_headers)
    with session_scope(db) as session:
        endpoint = session.get(WebhookEndpoint, response.json()["id"])
        assert endpoint is not None
        endpoint.secret = secret
    _, link, types = committed_agent(db)
    book(admin_client, link, types["Demo"], START)
    drain(with_settings(settings, webhook_allow_private=True))
    assert webhook_receiver.received
    for request in webhook_receiver.received:
        Webhook(receiver_key or secret).verify(request.body, request.headers)
    if receiver_key is not None:
        with pytest.raises(ValueError, match="base64"):
            Webhook(secret)
    assert standard_key(secret)  # never an empty key

"""Webhook endpoints and their delivery log: a manager's business only (an agent is refused, 403)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from shared.accounts.permissions import Actor, require_manager
from shared.models import WebhookDelivery, WebhookEndpoint
from shared.notifications import webhooks

WHAT = "manage webhooks"


def require_access(actor: Actor) -> None:
    """ManagersOnly unless the actor is a manager: the one rule of every function below."""
    require_manager(actor, WHAT)


def event_types(*, actor: Actor) -> list[str]:
    """Every event type an endpoint can subscribe to."""
    require_access(actor)
    return list(webhooks.WEBHOOK_EVENTS)


def list_endpoints(session: Session, *, actor: Actor) -> Sequence[WebhookEndpoint]:
    require_access(actor)
    return webhooks.list_endpoints(session)


def get_endpoint(session: Session, *, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    require_access(actor)
    return webhooks.get_endpoint(session, endpoint_id=endpoint_id)


def create_endpoint(
    session: Session,
    *,
    actor: Actor,
    url: str,
    events: Sequence[str],
    secret: str | None,
    active: bool,
    allow_private: bool,
) -> WebhookEndpoint:
    require_access(actor)
    return webhooks.create_endpoint(
        session, url=url, events=events, secret=secret, active=active, allow_private=allow_private
    )


def update_endpoint(
    session: Session,
    *,
    actor: Actor,
    endpoint_id: int,
    url: str | None,
    events: Sequence[str] | None,
    active: bool | None,
    allow_private: bool,
) -> WebhookEndpoint:
    require_access(actor)
    return webhooks.update_endpoint(
        session, endpoint_id=endpoint_id, url=url, events=events, active=active, allow_private=allow_private
    )


def delete_endpoint(session: Session, *, actor: Actor, endpoint_id: int) -> None:
    require_access(actor)
    webhooks.delete_endpoint(session, endpoint_id=endpoint_id)


def rotate_secret(session: Session, *, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    require_access(actor)
    return webhooks.rotate_secret(session, endpoint_id=endpoint_id)


def list_deliveries(
    session: Session, *, actor: Actor, endpoint_id: int | None = None, limit: int = 100
) -> Sequence[WebhookDelivery]:
    """Newest first; of one endpoint (WebhookEndpointNotFound when unknown) or of all."""
    require_access(actor)
    if endpoint_id is not None:
        webhooks.get_endpoint(session, endpoint_id=endpoint_id)
    return webhooks.list_deliveries(session, endpoint_id=endpoint_id, limit=limit)

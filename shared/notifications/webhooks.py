"""Webhook endpoints (managed by managers) and the planning of deliveries in the cause's transaction.

Event types: `booking.created`, `booking.cancelled`, `booking.rescheduled`, `booking.updated` and the four step events
under their own names (`calendar_1st_step` … `calendar_4th_step_submit`). Each delivery is one
outbox job per endpoint, with a snapshot of the data taken when the event happened; the worker
signs and posts it (shared.notifications.webhook_delivery).
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import Booking, Event, WebhookDelivery, WebhookEndpoint
from shared.notifications.errors import InvalidWebhookUrl, UnknownWebhookEvent, WebhookEndpointNotFound
from shared.outbox.service import PlannedJob, enqueue_many
from shared.steps.names import STEP_EVENTS

WEBHOOK_JOB = "webhook.deliver"
# booking.updated (SPEC §14): something learnt after the booking, e.g. the Meet link once Google made it.
BOOKING_WEBHOOK_EVENTS: tuple[str, ...] = (
    "booking.created",
    "booking.cancelled",
    "booking.rescheduled",
    "booking.updated",
)
WEBHOOK_EVENTS: tuple[str, ...] = BOOKING_WEBHOOK_EVENTS + STEP_EVENTS
MAX_URL_LENGTH = 2000


# --- targets ---------------------------------------------------------------------------------


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def refused_address_reason(address: IPAddress) -> str | None:
    """Why a webhook may not go to this address (loopback, private, link-local…), or None if public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_private or not address.is_global:
        return "a private or reserved address"
    return None


def validate_webhook_url(url: str, *, allow_private: bool) -> str:
    """An absolute http(s) URL; literal loopback/private hosts refused unless allowed.

    Host names are resolved and checked again at every delivery (DNS can change).
    """
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"webhook URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as error:
        raise InvalidWebhookUrl(f"not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidWebhookUrl("webhook URLs must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise InvalidWebhookUrl("webhook URL has no host")
    if not allow_private:
        if host == "localhost" or host.endswith(".localhost"):
            raise InvalidWebhookUrl("webhook URL points at this machine (localhost)")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and (reason := refused_address_reason(address)):
            raise InvalidWebhookUrl(f"webhook URL points at {reason}")
    return url


def validate_events(events: Sequence[str]) -> list[str]:
    for name in events:
        if name not in WEBHOOK_EVENTS:
            raise UnknownWebhookEvent(name, WEBHOOK_EVENTS)
    return list(dict.fromkeys(events))


# --- endpoints CRUD ----------------------------------------------------------------------------


def new_secret() -> str:
    """`whsec_` + standard base64 of 32 random bytes: the form Standard Webhooks libraries decode."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_endpoint(
    session: Session,
    *,
    url: str,
    events: Sequence[str] = (),
    secret: str | None = None,
    active: bool = True,
    allow_private: bool = False,
) -> WebhookEndpoint:
    """A new endpoint; `events` empty means every event type. The secret is generated unless given."""
    if secret is not None and len(secret) < 16:
        raise InvalidWebhookUrl("a webhook secret must be at least 16 characters")
    endpoint = WebhookEndpoint(
        url=validate_webhook_url(url, allow_private=allow_private),
        events=validate_events(events),
        secret=secret or new_secret(),
        active=active,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(session: Session) -> Sequence[WebhookEndpoint]:
    return session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()


def get_endpoint(session: Session, *, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise WebhookEndpointNotFound()
    return endpoint


def update_endpoint(
    session: Session,
    *,
    endpoint_id: int,
    url: str | None = None,
    events: Sequence[str] | None = None,
    active: bool | None = None,
    allow_private: bool = False,
) -> WebhookEndpoint:
    endpoint = get_endpoint(session, endpoint_id=endpoint_id)
    if url is not None:
        endpoint.url = validate_webhook_url(url, allow_private=allow_private)
    if events is not None:
        endpoint.events = validate_events(events)
    if active is not None:
        endpoint.active = active
    session.flush()
    return endpoint


def rotate_secret(session: Session, *, endpoint_id: int) -> WebhookEndpoint:
    """A new secret; deliveries signed from now on use it (receivers must switch at the same time)."""
    endpoint = get_endpoint(session, endpoint_id=endpoint_id)
    endpoint.secret = new_secret()
    session.flush()
    return endpoint


def delete_endpoint(session: Session, *, endpoint_id: int) -> None:
    """Delete the endpoint and its delivery log; deliveries still queued for it are dropped."""
    endpoint = get_endpoint(session, endpoint_id=endpoint_id)
    for delivery in session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)):
        session.delete(delivery)
    session.delete(endpoint)
    session.flush()


def list_deliveries(session: Session, *, endpoint_id: int | None = None, limit: int = 100) -> Sequence[WebhookDelivery]:
    """The delivery log, newest first: one row per attempt with its HTTP status or error."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return session.scalars(query).all()


# --- planning ----------------------------------------------------------------------------------


def active_endpoints(session: Session) -> list[WebhookEndpoint]:
    """The active endpoints, read once per cause (a booking plans two webhook events from one read)."""
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))).all())


def _subscribed_endpoints(endpoints: Sequence[WebhookEndpoint], event_type: str) -> list[WebhookEndpoint]:
    return [e for e in endpoints if not e.events or event_type in e.events]


def _iso(value: datetime | None) -> str | None:
    # In UTC always: a booking fresh from the request still holds the invitee's offset.
    return value.astimezone(UTC).isoformat() if value is not None else None


def booking_webhook_data(booking: Booking) -> dict[str, Any]:
    return {
        "booking": {
            "id": booking.id,
            "status": booking.status,
            "start": _iso(booking.start_at),
            "end": _iso(booking.end_at),
            "timezone": booking.invitee_timezone,
            "sequence": booking.sequence,
            "agent": {"id": booking.agent.id, "name": booking.agent.name, "email": booking.agent.email},
            "meeting_type": {
                "id": booking.meeting_type.id,
                "name": booking.meeting_type.name,
                "duration_minutes": booking.meeting_type.duration_minutes,
            },
            "contact_id": booking.contact_id,
            "first_name": booking.first_name,
            "last_name": booking.last_name,
            "company_name": booking.company_name,
            "email": booking.email,
            "description": booking.description,
            "phone": booking.phone,
            "location": booking.location,
            "cancel_reason": booking.cancel_reason,
            "session_id": booking.session_id,
            "visitor_id": booking.visitor_id,
        }
    }


def event_webhook_data(event: Event) -> dict[str, Any]:
    return {
        "event": {
            "id": event.id,
            "name": event.name,
            "attributes": event.attributes or {},
            "occurred_at": _iso(event.occurred_at),
            "contact_id": event.contact_id,
            "agent_id": event.agent_id,
            "meeting_type_id": event.meeting_type_id,
            "booking_id": event.booking_id,
            "session_id": event.session_id,
            "visitor_id": event.visitor_id,
            "chosen_date": event.chosen_date,
            "chosen_start": _iso(event.chosen_start),
        }
    }


def _jobs(
    endpoints: Sequence[WebhookEndpoint],
    *,
    event_type: str,
    data: Callable[[], dict[str, Any]],
    cause_key: str,
    created_at: datetime,
    booking_id: int | None,
    agent_id: int | None,
) -> list[PlannedJob]:
    subscribed = _subscribed_endpoints(endpoints, event_type)
    if not subscribed:
        return []  # the usual case: no snapshot to build
    snapshot = data()
    # One id per cause, the same for every endpoint and every retry: receivers dedupe on it.
    event_id = f"evt_{uuid.uuid4().hex}"
    return [
        PlannedJob(
            kind=WEBHOOK_JOB,
            payload={
                "endpoint_id": endpoint.id,
                "event_id": event_id,
                "type": event_type,
                "created_at": created_at.isoformat(),
                "data": snapshot,
            },
            dedupe_key=f"webhook:{endpoint.id}:{cause_key}",
            booking_id=booking_id,
            agent_id=agent_id,
        )
        for endpoint in subscribed
    ]


def booking_webhook_jobs(
    session: Session,
    *,
    booking: Booking,
    event: str,
    now: datetime,
    endpoints: Sequence[WebhookEndpoint] | None = None,
) -> list[PlannedJob]:
    """`booking.<event>` deliveries for every subscribed endpoint (`endpoints`: active_endpoints, if
    read), stamped as created `now`."""
    event_type = f"booking.{event}"
    if event_type not in BOOKING_WEBHOOK_EVENTS:
        raise UnknownWebhookEvent(event_type, BOOKING_WEBHOOK_EVENTS)
    return _jobs(
        active_endpoints(session) if endpoints is None else endpoints,
        event_type=event_type,
        data=lambda: booking_webhook_data(booking),
        cause_key=f"booking:{booking.id}:{event}:{booking.sequence}",
        created_at=now,
        booking_id=booking.id,
        agent_id=booking.agent_id,
    )


def event_webhook_jobs(
    session: Session, *, event: Event, endpoints: Sequence[WebhookEndpoint] | None = None
) -> list[PlannedJob]:
    """Deliveries of a step event (`calendar_1st_step` … `calendar_4th_step_submit`); other event
    names are not webhook events and give none. The event must be flushed (it needs its id)."""
    if event.name not in STEP_EVENTS:
        return []
    return _jobs(
        active_endpoints(session) if endpoints is None else endpoints,
        event_type=event.name,
        data=lambda: event_webhook_data(event),
        cause_key=f"event:{event.id}",
        created_at=event.occurred_at,
        booking_id=event.booking_id,
        agent_id=event.agent_id,
    )


def plan_event_webhooks(session: Session, *, event: Event, now: datetime) -> int:
    """Queue a step event (`calendar_1st_step` … `calendar_4th_step_submit`) for subscribed endpoints.

    Call after the event is flushed (it needs its id), in the same transaction. Other event names
    are not webhook events and plan nothing.
    """
    jobs = event_webhook_jobs(session, event=event)
    enqueue_many(session, jobs, now=now)
    return len(jobs)

"""Admin API for webhook endpoints and their delivery log (manager scope, Bearer MEETINGS_ADMIN_TOKEN)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from shared.models import WebhookDelivery, WebhookEndpoint
from shared.notifications import webhooks
from shared.notifications.webhook_delivery import allow_private_targets
from widget_api.deps import AdminDep, SessionDep, SettingsDep, require_manager_scope

# Manager scope only: an agent's personal API token gets 403 on every webhook endpoint.
router = APIRouter(
    prefix="/api/v1/admin/webhooks", tags=["admin: webhooks"], dependencies=[Depends(require_manager_scope)]
)

ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing bearer token"},
    403: {"description": "Invalid admin token, or an agent's token (webhooks are for managers only)"},
    404: {"description": "Unknown webhook endpoint"},
    422: {"description": "Invalid URL, event name or secret"},
}


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=webhooks.MAX_URL_LENGTH, description="http(s) URL that receives the POSTs")
    events: list[str] = Field(default_factory=list, description="Event types to deliver; empty = all")
    secret: str | None = Field(
        default=None, min_length=16, max_length=255, description="Signing secret; generated when omitted"
    )
    active: bool = True


class WebhookEndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=webhooks.MAX_URL_LENGTH)
    events: list[str] | None = None
    active: bool | None = None


class WebhookEndpointOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret_hint: str = Field(description="The last 4 characters of the signing secret")


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(description="Shown on create and rotate only: store it on the receiving side")


class WebhookDeliveryOut(BaseModel):
    id: int
    endpoint_id: int
    outbox_job_id: int | None
    event: str
    attempt: int
    status_code: int | None
    error: str | None
    created_at: datetime


class WebhookEventTypes(BaseModel):
    events: list[str]


def _out(endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    return WebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events or []),
        active=endpoint.active,
        created_at=endpoint.created_at,
        secret_hint=endpoint.secret[-4:],
    )


def _with_secret(endpoint: WebhookEndpoint) -> WebhookEndpointWithSecret:
    return WebhookEndpointWithSecret(**_out(endpoint).model_dump(), secret=endpoint.secret)


def _delivery_out(delivery: WebhookDelivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut.model_validate(delivery, from_attributes=True)


@router.get("/event-types", response_model=WebhookEventTypes, responses=ERRORS)
def list_event_types(_: AdminDep) -> WebhookEventTypes:
    """Every event type an endpoint can subscribe to."""
    return WebhookEventTypes(events=list(webhooks.WEBHOOK_EVENTS))


@router.get("", response_model=list[WebhookEndpointOut], responses=ERRORS)
def list_webhook_endpoints(_: AdminDep, session: SessionDep) -> list[WebhookEndpointOut]:
    return [_out(endpoint) for endpoint in webhooks.list_endpoints(session)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookEndpointWithSecret, responses=ERRORS)
def create_webhook_endpoint(
    body: WebhookEndpointIn, _: AdminDep, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointWithSecret:
    """Add an endpoint. Loopback and private targets are refused unless the server allows them.

    Each delivery is a POST of `{"id", "type", "created_at", "data"}` with the headers
    `X-Meetings-Event`, `X-Meetings-Delivery` (the body's id, the same on retries),
    `X-Meetings-Timestamp` (unix seconds) and `X-Meetings-Signature: sha256=<hex>`, the HMAC-SHA256
    of `<timestamp>.<raw body>` with the endpoint's secret. Verify it like this (Python):

        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, signature.removeprefix("sha256="))
        fresh = abs(time.time() - int(timestamp)) <= 300

    Answer 2xx to acknowledge; 408, 429 and 5xx are retried with backoff, other answers are not.
    """
    endpoint = webhooks.create_endpoint(
        session,
        url=body.url,
        events=body.events,
        secret=body.secret,
        active=body.active,
        allow_private=allow_private_targets(settings),
    )
    return _with_secret(endpoint)


@router.get("/deliveries", response_model=list[WebhookDeliveryOut], responses=ERRORS)
def list_all_deliveries(
    _: AdminDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[WebhookDeliveryOut]:
    """The delivery log of every endpoint, newest first."""
    return [_delivery_out(d) for d in webhooks.list_deliveries(session, limit=limit)]


@router.get("/{endpoint_id}", response_model=WebhookEndpointOut, responses=ERRORS)
def get_webhook_endpoint(endpoint_id: int, _: AdminDep, session: SessionDep) -> WebhookEndpointOut:
    return _out(webhooks.get_endpoint(session, endpoint_id=endpoint_id))


@router.patch("/{endpoint_id}", response_model=WebhookEndpointOut, responses=ERRORS)
def update_webhook_endpoint(
    endpoint_id: int, body: WebhookEndpointPatch, _: AdminDep, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointOut:
    endpoint = webhooks.update_endpoint(
        session,
        endpoint_id=endpoint_id,
        url=body.url,
        events=body.events,
        active=body.active,
        allow_private=allow_private_targets(settings),
    )
    return _out(endpoint)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_webhook_endpoint(endpoint_id: int, _: AdminDep, session: SessionDep) -> Response:
    """Delete the endpoint and its delivery log; queued deliveries to it are dropped."""
    webhooks.delete_endpoint(session, endpoint_id=endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{endpoint_id}/rotate-secret", response_model=WebhookEndpointWithSecret, responses=ERRORS)
def rotate_webhook_secret(endpoint_id: int, _: AdminDep, session: SessionDep) -> WebhookEndpointWithSecret:
    """A new signing secret, used for every delivery from now on."""
    return _with_secret(webhooks.rotate_secret(session, endpoint_id=endpoint_id))


@router.get("/{endpoint_id}/deliveries", response_model=list[WebhookDeliveryOut], responses=ERRORS)
def list_endpoint_deliveries(
    endpoint_id: int, _: AdminDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[WebhookDeliveryOut]:
    """One row per delivery attempt to this endpoint: HTTP status or error, newest first."""
    webhooks.get_endpoint(session, endpoint_id=endpoint_id)
    return [_delivery_out(d) for d in webhooks.list_deliveries(session, endpoint_id=endpoint_id, limit=limit)]

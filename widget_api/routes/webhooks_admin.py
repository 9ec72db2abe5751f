"""Admin API for webhook endpoints and their delivery log (manager scope, Bearer MEETINGS_ADMIN_TOKEN)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from shared.accounts.scoped import webhooks as scoped_webhooks
from shared.notifications import webhooks
from shared.notifications.webhook_delivery import allow_private_targets
from widget_api.deps import AdminDep, SessionDep, SettingsDep, require_webhooks_access
from widget_api.schemas import Out, attribute

# Manager scope only (shared.accounts.scoped.webhooks): an agent's personal API token gets 403 on
# every webhook endpoint, before its body is looked at.
router = APIRouter(
    prefix="/api/v1/admin/webhooks", tags=["admin: webhooks"], dependencies=[Depends(require_webhooks_access)]
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


def _last_four(secret: str) -> str:
    return secret[-4:]


class WebhookEndpointOut(Out):
    id: int
    url: str
    events: Annotated[list[str], BeforeValidator(lambda events: list(events or []))]
    active: bool
    created_at: datetime
    secret_hint: Annotated[str, AfterValidator(_last_four)] = Field(
        validation_alias=attribute("secret"), description="The last 4 characters of the signing secret"
    )


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(description="Shown on create and rotate only: store it on the receiving side")


class WebhookDeliveryOut(Out):
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


@router.get("/event-types", response_model=WebhookEventTypes, responses=ERRORS)
def list_event_types(actor: AdminDep) -> WebhookEventTypes:
    """Every event type an endpoint can subscribe to."""
    return WebhookEventTypes(events=scoped_webhooks.event_types(actor=actor))


@router.get("", response_model=list[WebhookEndpointOut], responses=ERRORS)
def list_webhook_endpoints(actor: AdminDep, session: SessionDep) -> list[WebhookEndpointOut]:
    return [WebhookEndpointOut.of(endpoint) for endpoint in scoped_webhooks.list_endpoints(session, actor=actor)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookEndpointWithSecret, responses=ERRORS)
def create_webhook_endpoint(
    body: WebhookEndpointIn, actor: AdminDep, session: SessionDep, settings: SettingsDep
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
    endpoint = scoped_webhooks.create_endpoint(
        session,
        actor=actor,
        url=body.url,
        events=body.events,
        secret=body.secret,
        active=body.active,
        allow_private=allow_private_targets(settings),
    )
    return WebhookEndpointWithSecret.of(endpoint)


@router.get("/deliveries", response_model=list[WebhookDeliveryOut], responses=ERRORS)
def list_all_deliveries(
    actor: AdminDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[WebhookDeliveryOut]:
    """The delivery log of every endpoint, newest first."""
    return [WebhookDeliveryOut.of(d) for d in scoped_webhooks.list_deliveries(session, actor=actor, limit=limit)]


@router.get("/{endpoint_id}", response_model=WebhookEndpointOut, responses=ERRORS)
def get_webhook_endpoint(endpoint_id: int, actor: AdminDep, session: SessionDep) -> WebhookEndpointOut:
    return WebhookEndpointOut.of(scoped_webhooks.get_endpoint(session, actor=actor, endpoint_id=endpoint_id))


@router.patch("/{endpoint_id}", response_model=WebhookEndpointOut, responses=ERRORS)
def update_webhook_endpoint(
    endpoint_id: int, body: WebhookEndpointPatch, actor: AdminDep, session: SessionDep, settings: SettingsDep
) -> WebhookEndpointOut:
    endpoint = scoped_webhooks.update_endpoint(
        session,
        actor=actor,
        endpoint_id=endpoint_id,
        url=body.url,
        events=body.events,
        active=body.active,
        allow_private=allow_private_targets(settings),
    )
    return WebhookEndpointOut.of(endpoint)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_webhook_endpoint(endpoint_id: int, actor: AdminDep, session: SessionDep) -> Response:
    """Delete the endpoint and its delivery log; queued deliveries to it are dropped."""
    scoped_webhooks.delete_endpoint(session, actor=actor, endpoint_id=endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{endpoint_id}/rotate-secret", response_model=WebhookEndpointWithSecret, responses=ERRORS)
def rotate_webhook_secret(endpoint_id: int, actor: AdminDep, session: SessionDep) -> WebhookEndpointWithSecret:
    """A new signing secret, used for every delivery from now on."""
    return WebhookEndpointWithSecret.of(scoped_webhooks.rotate_secret(session, actor=actor, endpoint_id=endpoint_id))


@router.get("/{endpoint_id}/deliveries", response_model=list[WebhookDeliveryOut], responses=ERRORS)
def list_endpoint_deliveries(
    endpoint_id: int, actor: AdminDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[WebhookDeliveryOut]:
    """One row per delivery attempt to this endpoint: HTTP status or error, newest first."""
    deliveries = scoped_webhooks.list_deliveries(session, actor=actor, endpoint_id=endpoint_id, limit=limit)
    return [WebhookDeliveryOut.of(d) for d in deliveries]

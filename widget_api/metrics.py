"""`GET /metrics` (SPEC §17) and the middleware that counts every request by its route template.

Off unless MEETINGS_METRICS_ENABLED=true (then the route does not exist: 404). When on, it answers
only `Authorization: Bearer <MEETINGS_ADMIN_TOKEN>` (401 without a bearer token, 403 with another),
which is what Prometheus's `authorization` scrape setting sends. Agent API tokens are not enough:
the numbers describe the whole deployment.
"""

from __future__ import annotations

import secrets
import time

import anyio
from fastapi import APIRouter, FastAPI, Header, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.observability.metrics import (
    BOOKING_REFUSALS,
    BOOKINGS,
    HTTP_DURATION,
    HTTP_REQUESTS,
    RATE_LIMIT_REFUSALS,
    OutboxCollector,
    install_metric_hooks,
    render_metrics,
)
from shared.settings import Settings
from widget_api.middleware import route_template

# Requests that ask for a booking (a new one or another time); a 4xx answer is a refused booking.
BOOKING_REQUESTS = frozenset(
    {
        ("POST", "/api/v1/links/{link}/bookings"),
        ("POST", "/api/v1/bookings/{manage_token}/reschedule"),
        ("POST", "/manage/{manage_token}/reschedule"),
    }
)
REFUSAL_REASONS = {404: "not_found", 409: "slot_unavailable", 422: "invalid", 429: "rate_limited"}


class MetricsMiddleware:
    """Outermost: every answer is counted, the 413s and 429s given before routing included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route, method = route_template(scope), scope["method"]
            HTTP_REQUESTS.labels(route=route, method=method, status=str(status)).inc()
            HTTP_DURATION.labels(route=route, method=method).observe(time.perf_counter() - started)
            if status == 429:
                RATE_LIMIT_REFUSALS.labels(route=route).inc()
            if (method, route) in BOOKING_REQUESTS and 400 <= status < 500 and status not in (401, 403):
                BOOKINGS.labels(outcome="refused").inc()
                BOOKING_REFUSALS.labels(reason=REFUSAL_REASONS.get(status, f"http_{status}")).inc()


def _require_admin_token(settings: Settings, authorization: str | None) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, detail="missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    if not secrets.compare_digest(token.encode(), settings.admin_token.encode()):
        raise HTTPException(status_code=403, detail="/metrics needs MEETINGS_ADMIN_TOKEN")


router = APIRouter(tags=["ops"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, authorization: str | None = Header(default=None)) -> Response:
    """Prometheus text format: this deployment's counters (every API process) and outbox gauges."""
    _require_admin_token(request.app.state.settings, authorization)
    collector = OutboxCollector(request.app.state.sessionmaker, request.app.state.clock)
    body = await anyio.to_thread.run_sync(lambda: render_metrics(database=collector))
    return Response(content=body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """Wire /metrics and the request counter when MEETINGS_METRICS_ENABLED; nothing otherwise."""
    if not settings.metrics_enabled:
        return
    install_metric_hooks()
    app.add_middleware(MetricsMiddleware)
    app.include_router(router)

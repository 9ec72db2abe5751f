"""HTTP hardening around every request: logs, security headers, CORS, rate limits, body size.

Outermost first (install_middleware adds them in reverse):
  RequestLogMiddleware       request id, one JSON line per request with the route template
  SecurityHeadersMiddleware  nosniff, Referrer-Policy, CSP on HTML, frame-ancestors
  PublicCORSMiddleware       CORS for MEETINGS_EMBED_ORIGINS on the public widget API only
  RateLimitMiddleware        per-client allowances from widget_api.ratelimit -> 429 + Retry-After
  BodySizeLimitMiddleware    bodies counted as they arrive -> 413
All are plain ASGI (no BaseHTTPMiddleware), so they add no task or buffering of responses.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

import anyio
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import Settings
from widget_api.logging import REQUEST_ID, access_logger
from widget_api.ratelimit.errors import RateLimited
from widget_api.ratelimit.limiter import (
    RateLimiter,
    RateLimitPolicy,
    bucket_for,
    client_address,
    client_key,
    limits_enabled,
)

logger = logging.getLogger("meetings.middleware")

PUBLIC_API = re.compile(r"/api/v1/(?:links/.+|events|bookings/.+)")
# Paths whose URL is a credential (manage token): never sent on as a Referer, never cached.
TOKEN_PATHS = re.compile(r"/(?:manage|api/v1/bookings)/.*")
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
REQUEST_ID_FORMAT = re.compile(r"[A-Za-z0-9._:-]{1,64}")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# FastAPI's Swagger UI and ReDoc pages load their code from jsDelivr and start it inline.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def _json_error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)


def _first_header(scope: Scope, name: bytes) -> str:
    """Headers(scope=scope).get(name, ""), without building the Headers (`name` in lower case)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def route_template(scope: Scope) -> str:
    """The matched route's path template, e.g. `/api/v1/bookings/{manage_token}` — never the raw path."""
    route = scope.get("route")
    if route is None:
        # Answered before routing (413, 429, a CORS preflight): find the route it was meant for.
        app = scope.get("app")
        for candidate in getattr(getattr(app, "router", None), "routes", ()):
            match, _ = candidate.matches(scope)
            if match is not Match.NONE:
                route = candidate
                break
    if route is None:
        return "<unmatched>"
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else "<unmatched>"


class RequestLogMiddleware:
    """X-Request-ID echoed (when well-formed) or generated; one `meetings.access` record per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _first_header(scope, b"x-request-id")
        # 32 random hex digits, as uuid4().hex was, for an eighth of its cost.
        request_id = incoming if REQUEST_ID_FORMAT.fullmatch(incoming) else os.urandom(16).hex()
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_logger.isEnabledFor(logging.INFO):  # off under `--log-level warning`: no record built
                access_logger.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": route_template(scope),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            REQUEST_ID.reset(token)


class SecurityHeadersMiddleware:
    """Headers every response should carry; route-specific values already set are kept."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.frame_ancestors = frame_ancestors_sources(settings.frame_ancestors)
        base_origin = settings.base_url.rstrip("/")
        # The widget script and its API calls come from our own origin; MEETINGS_BASE_URL is listed
        # too because pages write absolute URLs with it (it may differ from the Host a proxy sees).
        self.page_csp = (
            f"default-src 'none'; script-src 'self' {base_origin}; connect-src 'self' {base_origin}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        token_path = TOKEN_PATHS.fullmatch(path) is not None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add_headers(MutableHeaders(scope=message), path, token_path)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add_headers(self, headers: MutableHeaders, path: str, token_path: bool) -> None:
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if token_path:
            headers["Referrer-Policy"] = "no-referrer"
            headers.setdefault("Cache-Control", "no-store")
        else:
            headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        ancestors = "'none'" if token_path or path in DOCS_PATHS else self.frame_ancestors
        content_type = headers.get("content-type", "")
        csp = headers.get("content-security-policy")
        if content_type.startswith("text/html"):
            if csp is None:
                csp = DOCS_CSP if path in DOCS_PATHS else f"{self.page_csp}; frame-ancestors {ancestors}"
            elif "frame-ancestors" not in csp:
                csp = f"{csp.rstrip().rstrip(';')}; frame-ancestors {ancestors}"
            headers["Content-Security-Policy"] = csp
            if ancestors in ("'none'", "'self'"):
                # For browsers that predate frame-ancestors.
                headers.setdefault("X-Frame-Options", "DENY" if ancestors == "'none'" else "SAMEORIGIN")
        elif csp is None and path.startswith("/api/"):
            headers["Content-Security-Policy"] = API_CSP


def frame_ancestors_sources(value: str) -> str:
    """MEETINGS_FRAME_ANCESTORS as CSP sources; separators may be spaces or commas."""
    sources = value.replace(",", " ").split()
    if not sources or any(";" in s or "\n" in s or "\r" in s for s in sources):
        raise ValueError("MEETINGS_FRAME_ANCESTORS must be CSP sources such as \"'self' https://app.example.com\"")
    return " ".join(sources)


class PublicCORSMiddleware:
    """Starlette's CORSMiddleware, applied to the public widget API and nothing else.

    The admin API, the OAuth callback and the pages never answer with Access-Control-Allow-Origin,
    whatever the Origin, so a browser on another site can never read them.
    """

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["Retry-After", "X-Request-ID"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not PUBLIC_API.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
        elif any(name == b"origin" for name, _ in scope["headers"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, _vary_origin(send))


def _vary_origin(send: Send) -> Send:
    """What CORSMiddleware does to the response of a request without Origin (no preflight, no
    Access-Control-* headers, `Vary: Origin` added), without its per-request Headers and partial."""

    async def send_with_vary(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
        await send(message)

    return send_with_vary


class RateLimitMiddleware:
    """Per-client allowances on the public API, counted in the shared database (reads in batches).

    If the counter cannot be reached the request goes on (fail open): the route meets the same
    database and answers 503 itself, and a limiter outage must not take the product down.
    """

    def __init__(self, app: ASGIApp, *, policy: RateLimitPolicy) -> None:
        self.app = app
        self.policy = policy
        self._limiter: RateLimiter | None = None
        # The key of a (peer, X-Forwarded-For) pair never changes under one policy, and parsing the
        # addresses was a good part of this middleware's time; bounded, so sprayed headers only evict.
        self._client_key = lru_cache(maxsize=4096)(self._key_of)
        self._bucket_for = lru_cache(maxsize=4096)(bucket_for)  # a pure function of (method, path)

    def _key_of(self, peer: str | None, forwarded: tuple[str, ...]) -> str:
        return client_key(client_address(peer, forwarded, self.policy.trusted_proxies))

    def _limiter_for(self, scope: Scope) -> RateLimiter:
        engine = scope["app"].state.engine
        if self._limiter is None or self._limiter.engine is not engine:
            self._limiter = RateLimiter(engine=engine, policy=self.policy)
            scope["app"].state.rate_limiter = self._limiter  # the lifespan writes pending hits at shutdown
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bucket = self._bucket_for(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if bucket is None:
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else None
        forwarded = tuple(value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for")
        client = self._client_key(peer, forwarded)
        now: datetime = scope["app"].state.clock()
        limiter = self._limiter_for(scope)
        try:
            # Most reads are admitted in process (batched counting, widget_api.ratelimit.limiter); only
            # the rest pay a thread hop and a database round trip.
            if not limiter.admit_locally(bucket=bucket, client=client, now=now):
                await anyio.to_thread.run_sync(lambda: limiter.hit(bucket=bucket, client=client, now=now))
        except RateLimited as limited:
            response = _json_error(429, limited.detail, {"Retry-After": str(limited.retry_after)})
            await response(scope, receive, send)
            return
        except SQLAlchemyError as error:
            logger.warning("rate limiter unavailable, request let through: %s", type(error).__name__)
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413, counting the bytes that arrive, not Content-Length.

    The body is read up front (every body this API takes is small JSON or a form) and replayed to
    the app, so an oversized one is refused before any route or database work starts.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        detail = f"request body too large: at most {self.max_bytes} bytes"
        return _json_error(413, detail, {"Connection": "close"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nothing to answer
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Wire the hardening middleware (Starlette runs the last added first).

    Settings are checked here, so a bad MEETINGS_FRAME_ANCESTORS or MEETINGS_TRUSTED_PROXY stops
    the app at start-up instead of at its first request.
    """
    frame_ancestors_sources(settings.frame_ancestors)
    policy = RateLimitPolicy.from_settings(settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if limits_enabled(settings):
        app.add_middleware(RateLimitMiddleware, policy=policy)
    app.add_middleware(PublicCORSMiddleware, origins=settings.embed_origin_list)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.add_middleware(RequestLogMiddleware)

"""Signing and posting webhook deliveries from the outbox ("webhook.deliver" jobs).

Every POST carries:
    Content-Type: application/json
    X-Meetings-Event: <type>                       e.g. booking.created
    X-Meetings-Timestamp: <unix seconds>
    X-Meetings-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<raw body>" with the secret>
    X-Meetings-Delivery: <event id>                the body's "id"; the same on every retry
and the three headers of Standard Webhooks (https://www.standardwebhooks.com), so a receiver can
verify with the `standardwebhooks` library and the same `whsec_…` secret:
    webhook-id: <event id>                         the same as X-Meetings-Delivery
    webhook-timestamp: <unix seconds>              the same as X-Meetings-Timestamp
    webhook-signature: v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<raw body>">
keyed with the base64-decoded part of the secret after `whsec_` (see `standard_key`),
and the body {"id", "type", "created_at", "data"}.

A receiver verifies (Python):

    import hashlib, hmac, time
    def verify(secret: str, headers, body: bytes, tolerance=300) -> bool:
        timestamp = headers["X-Meetings-Timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        received = headers["X-Meetings-Signature"].removeprefix("sha256=")
        return hmac.compare_digest(expected, received) and abs(time.time() - int(timestamp)) <= tolerance

2xx is success. 408, 429, 5xx, timeouts and connection errors are retried with backoff (Retry-After
honoured); redirects are not followed and, like other 4xx, fail permanently. Each attempt is
logged in WebhookDelivery. The target host is resolved before each attempt and the request goes
to the checked address (no second lookup a DNS rebinding could exploit); loopback, private,
link-local and reserved addresses are refused unless `webhook_allow_private` is set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import OutboxJob, WebhookDelivery, WebhookEndpoint
from shared.notifications.webhooks import refused_address_reason
from shared.observability.metrics import WEBHOOK_DELIVERIES
from shared.outbox.contract import JobContext, PermanentFailure, RetryLater
from shared.settings import Settings

TIMEOUT_SECONDS = 10.0
USER_AGENT = "Meetings-Webhooks/1"


def allow_private_targets(settings: Settings) -> bool:
    return settings.webhook_allow_private


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks signing key of a `whsec_…` secret: the part after `whsec_`, base64-decoded
    exactly as the `standardwebhooks` library decodes it (padding added, characters outside the
    alphabet skipped), so every secret, old url-safe ones and hand-given ones too, verifies there
    unchanged. Secrets made now are `whsec_` + standard base64 of 32 random bytes. A secret that
    does not decode at all (the library refuses it too) is keyed with its own UTF-8 bytes, which a
    receiver can pass to `Webhook(...)` as bytes.
    """
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "==")
    except (binascii.Error, ValueError):
        return encoded.encode()
    return key or encoded.encode()


def standard_signature(secret: str, *, message_id: str, timestamp: str, body: bytes) -> str:
    """`webhook-signature`: "v1," + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" (Standard Webhooks)."""
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def encode_body(payload: dict[str, Any]) -> bytes:
    body = {
        "id": payload["event_id"],
        "type": payload["type"],
        "created_at": payload["created_at"],
        "data": payload["data"],
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class TargetRefused(Exception):  # noqa: N818 - a verdict, raised to stop the attempt
    pass


@dataclass(frozen=True)
class ResolvedTarget:
    url: str  # the URL with the host replaced by the checked address
    host_header: str
    sni_hostname: str | None


def resolve_target(url: str, *, allow_private: bool) -> ResolvedTarget:
    """Resolve the URL's host, refuse non-public addresses (unless allowed), pin the first one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("only absolute http(s) URLs are delivered to")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise RetryLater(f"cannot resolve {host}: {error}") from error
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise RetryLater(f"{host} resolves to no address")
    if not allow_private:
        for address in addresses:
            if reason := refused_address_reason(address):
                raise TargetRefused(f"refused: {host} resolves to {address}, {reason}")
    pinned = addresses[0]
    pinned_host = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    netloc = f"{pinned_host}:{parts.port}" if parts.port else pinned_host
    host_header = parts.netloc.rpartition("@")[2]
    return ResolvedTarget(
        url=urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        host_header=host_header,
        sni_hostname=host if parts.scheme == "https" else None,
    )


def _log(
    context: JobContext,
    *,
    endpoint_id: int,
    job_id: int,
    event: str,
    attempt: int,
    status_code: int | None = None,
    error: str | None = None,
) -> None:
    with session_scope(context.sessionmaker) as session:
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                outbox_job_id=job_id,
                event=event,
                attempt=attempt,
                status_code=status_code,
                error=error[:2000] if error else None,
                created_at=context.clock(),
            )
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def handle_webhook_delivery(context: JobContext, job: OutboxJob) -> None:
    """Kind "webhook.deliver": payload {endpoint_id, event_id, type, created_at, data}."""
    payload: dict[str, Any] = job.payload
    endpoint_id = payload.get("endpoint_id")
    if not isinstance(endpoint_id, int) or not all(k in payload for k in ("event_id", "type", "created_at", "data")):
        raise PermanentFailure(f"malformed webhook.deliver payload: {payload!r}")
    event_type = str(payload["type"])
    with session_scope(context.sessionmaker) as session:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None or not endpoint.active:
            return  # deleted or switched off since: nothing to deliver
        url, secret = endpoint.url, endpoint.secret
        attempt = 1 + (
            session.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.outbox_job_id == job.id)
            )
            or 0
        )

    def log(**fields: Any) -> None:
        WEBHOOK_DELIVERIES.labels(status=str(fields.get("status_code") or "error")).inc()
        _log(context, endpoint_id=endpoint_id, job_id=job.id, event=event_type, attempt=attempt, **fields)

    try:
        target = resolve_target(url, allow_private=allow_private_targets(context.settings))
    except TargetRefused as error:
        log(error=str(error))
        raise PermanentFailure(str(error)) from error
    except RetryLater as error:
        log(error=error.reason)
        raise

    body = encode_body(payload)
    timestamp = str(int(context.clock().timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.host_header,
        "X-Meetings-Event": event_type,
        "X-Meetings-Delivery": str(payload["event_id"]),
        "X-Meetings-Timestamp": timestamp,
        "X-Meetings-Signature": sign(secret, timestamp, body),
        "webhook-id": str(payload["event_id"]),
        "webhook-timestamp": timestamp,
        "webhook-signature": standard_signature(
            secret, message_id=str(payload["event_id"]), timestamp=timestamp, body=body
        ),
    }
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
            response = client.post(target.url, content=body, headers=headers, extensions=extensions)
    except httpx.TimeoutException as error:
        log(error=f"timed out after {TIMEOUT_SECONDS:.0f} s")
        raise RetryLater(f"webhook timed out: {error}") from error
    except httpx.HTTPError as error:
        log(error=f"{type(error).__name__}: {error}")
        raise RetryLater(f"webhook connection failed: {error}") from error

    status = response.status_code
    if 200 <= status < 300:
        log(status_code=status)
        return
    excerpt = response.text[:200]
    log(status_code=status, error=excerpt or None)
    if status in (408, 429) or status >= 500:
        raise RetryLater(f"webhook answered {status}", delay_seconds=_retry_after(response))
    raise PermanentFailure(f"webhook answered {status}: {excerpt}")

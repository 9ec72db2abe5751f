"""Domain errors of notifications: email transport settings and webhook endpoints."""

from __future__ import annotations

from shared.errors import InvalidInput, NotFound


class InvalidSmtpUrl(InvalidInput):
    """SMTP_URL is not smtp://[user:pass@]host[:port][?starttls=1] or smtps://…"""


class WebhookEndpointNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("webhook endpoint not found")


class InvalidWebhookUrl(InvalidInput):
    """Not an absolute http(s) URL, or a loopback/private target while those are not allowed."""


class UnknownWebhookEvent(InvalidInput):
    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown webhook event {name!r}; expected some of {', '.join(known)}")


class UnknownEmailTemplate(InvalidInput):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown email template {name!r}")

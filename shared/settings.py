"""One settings object for every front door (API, worker, dashboard, CLI).

Read from the environment by pydantic-settings: a field `x` comes from `MEETINGS_X`, except where
SPEC §8/§12 fixes another name (`DATABASE_URL`, `SMTP_URL`, `GOOGLE_*`: an explicit alias) and
`MEETINGS_ENV` (the README's name for `environment`). Keyword arguments use the field names
(`Settings(database_url=...)`). Built by the caller (`Settings()`), never at import time, so tests and
each process build their own.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "dev-secret-key-change-me", "dev-admin-token"}
DEV_SECRET_KEY = "dev-secret-key-change-me"
DEV_ADMIN_TOKEN = "dev-admin-token"


def _is_loopback_url(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEETINGS_", env_file=None, extra="ignore", populate_by_name=True)

    environment: str = Field(
        default="development",
        validation_alias="MEETINGS_ENV",  # the README's name, shorter than MEETINGS_ENVIRONMENT
        description="development | test | production; placeholder secrets are refused in production.",
    )
    # SPEC §8/§12 fix these names without the prefix.
    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'meetings.db'}", validation_alias="DATABASE_URL"
    )
    db_pool_size: int = 10
    # pool_size + max_overflow ≥ the 40 threads FastAPI runs sync endpoints on, so a request never
    # waits for a connection while another one waits for an agent's booking lock.
    db_max_overflow: int = 30
    base_url: str = "http://127.0.0.1:8000"
    dashboard_url: str = "http://127.0.0.1:8501"
    admin_token: str = DEV_ADMIN_TOKEN
    secret_key: str = DEV_SECRET_KEY
    embed_origins: str = Field(
        default="*",
        description="Comma-separated origins allowed to call the widget API from a browser; * for any.",
    )
    smtp_url: str | None = Field(default=None, validation_alias="SMTP_URL")
    mail_from: str = "Meetings <meetings@localhost>"

    google_client_id: str | None = Field(default=None, validation_alias="GOOGLE_CLIENT_ID")
    google_client_secret: str | None = Field(default=None, validation_alias="GOOGLE_CLIENT_SECRET")
    google_redirect_uri: str | None = Field(default=None, validation_alias="GOOGLE_REDIRECT_URI")
    google_auth_uri: str = Field(
        default="https://accounts.google.com/o/oauth2/auth", validation_alias="GOOGLE_AUTH_URI"
    )
    google_token_uri: str = Field(default="https://oauth2.googleapis.com/token", validation_alias="GOOGLE_TOKEN_URI")
    google_api_endpoint: str = Field(
        default="https://www.googleapis.com/calendar/v3/", validation_alias="GOOGLE_API_ENDPOINT"
    )

    worker_poll_seconds: float = 1.0
    worker_lease_seconds: int = 120

    # Hardening (widget_api/ratelimit, widget_api/middleware.py; docs/security.md).
    rate_limit_enabled: bool | None = Field(
        default=None,
        description="Per-client rate limits on the public API. Unset: on, except when MEETINGS_ENV=test.",
    )
    rate_limit_bookings_per_minute: int = Field(
        default=10,
        ge=0,
        description="Bookings, cancels and reschedules per client address per minute (0 = no limit).",
    )
    rate_limit_events_per_minute: int = Field(
        default=120,
        ge=0,
        description="POST /api/v1/events per client address per minute (0 = no limit).",
    )
    rate_limit_reads_per_minute: int = Field(
        default=300,
        ge=0,
        description="Public GETs (links, days, slots, bookings, hosted pages) per client per minute (0 = no limit).",
    )
    availability_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="Longest a per-process slots/days answer is reused (shared.availability.cache); 0 = off.",
    )
    trusted_proxy: str = Field(
        default="",
        description="Comma-separated addresses/networks of reverse proxies whose X-Forwarded-For is believed.",
    )
    frame_ancestors: str = Field(
        default="'self'",
        description="CSP frame-ancestors sources for the hosted pages, e.g. \"'self' https://app.example.com\".",
    )
    max_body_bytes: int = Field(
        default=65_536,
        ge=1024,
        description="Largest request body accepted (bytes counted as they arrive); larger gets 413.",
    )

    retain_contact_days: int | None = Field(
        default=None,
        ge=1,
        description="Erase contacts with no booking or event for this many days (worker, daily); unset = keep.",
    )

    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs on loopback/private addresses (tests, on-premises receivers).",
    )

    # Operating it (SPEC §17; shared/observability, widget_api/metrics.py).
    metrics_enabled: bool = Field(
        default=False,
        description="Serve GET /metrics (Prometheus), behind MEETINGS_ADMIN_TOKEN; off: 404.",
    )
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="json | text for every process; unset: text in development, json otherwise (production, test).",
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str) -> str:
        # Accept the common spellings and use psycopg 3, the driver we ship.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "production":
            for name in ("secret_key", "admin_token"):
                if getattr(self, name) in PLACEHOLDER_SECRETS or len(getattr(self, name)) < 16:
                    raise ValueError(f"{name.upper()} must be set to a real secret (≥16 chars) in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def effective_log_format(self) -> Literal["json", "text"]:
        if self.log_format is not None:
            return self.log_format
        # Text only for a person at a terminal; tests and production read the lines as JSON.
        return "text" if self.environment == "development" else "json"

    @property
    def embed_origin_list(self) -> list[str]:
        return [o.strip() for o in self.embed_origins.split(",") if o.strip()]

    @property
    def google_configured(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret and self.google_redirect_uri)

    @property
    def google_endpoints_are_loopback(self) -> bool:
        return all(_is_loopback_url(u) for u in (self.google_auth_uri, self.google_token_uri, self.google_api_endpoint))

    def booking_url(self, link: str) -> str:
        return f"{self.base_url.rstrip('/')}/b/{link}"

    def manage_url(self, manage_token: str) -> str:
        return f"{self.base_url.rstrip('/')}/manage/{manage_token}"

    def ics_url(self, manage_token: str) -> str:
        return f"{self.base_url.rstrip('/')}/api/v1/bookings/{manage_token}/ics"

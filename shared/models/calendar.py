from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow

STATUS_CONNECTED = "connected"
STATUS_NEEDS_RECONNECT = "needs_reconnect"
STATUS_DISCONNECTED = "disconnected"


class CalendarConnection(Base):
    __tablename__ = "calendar_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(32), default="google")
    account_email: Mapped[str | None] = mapped_column(String(320), default=None)
    # Fernet token (key derived from MEETINGS_SECRET_KEY) of the provider's token JSON.
    encrypted_tokens: Mapped[str | None] = mapped_column(Text, default=None)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    busy_calendar_ids: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["primary"])
    destination_calendar_id: Mapped[str] = mapped_column(String(255), default="primary")
    status: Mapped[str] = mapped_column(String(32), default=STATUS_CONNECTED)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OAuthState(Base):
    """A pending OAuth consent: bound to one agent, single use, short-lived, holds the PKCE verifier."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    code_verifier: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

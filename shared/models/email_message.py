from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow


class EmailMessage(Base):
    """Every email the product produced: sent over SMTP, or kept here when no SMTP_URL is set."""

    __tablename__ = "email_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_jobs.id", ondelete="SET NULL"), unique=True, default=None
    )
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True, default=None
    )
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text, default=None)
    ics: Mapped[str | None] = mapped_column(Text, default=None)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    transport: Mapped[str] = mapped_column(String(16), default="stored")  # smtp | stored
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

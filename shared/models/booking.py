from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.agent import Agent
from shared.models.base import Base, UTCDateTime, utcnow
from shared.models.contact import Contact
from shared.models.meeting_type import MeetingType

STATUS_CONFIRMED = "confirmed"
STATUS_CANCELLED = "cancelled"


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("agent_id", "idempotency_key", name="uq_bookings_agent_idempotency_key"),
        Index("ix_bookings_agent_id_start_at", "agent_id", "start_at"),
        # Last line of defence; the real guarantee against overlaps of different lengths is the
        # per-agent lock in shared.booking.service.
        Index(
            "uq_bookings_confirmed_agent_start",
            "agent_id",
            "start_at",
            unique=True,
            sqlite_where=text("status = 'confirmed'"),
            postgresql_where=text("status = 'confirmed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    meeting_type_id: Mapped[int] = mapped_column(ForeignKey("meeting_types.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    invitee_timezone: Mapped[str] = mapped_column(String(64))
    # The language of the invitee's emails and manage page (shared.locales): from the widget, "en" otherwise.
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=STATUS_CONFIRMED)
    manage_token: Mapped[str] = mapped_column(String(64), unique=True)
    provider_event_id: Mapped[str | None] = mapped_column(String(255), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    # Hash of the request an idempotency key was first used with; a reuse with other data is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    session_id: Mapped[str | None] = mapped_column(String(100), default=None)
    visitor_id: Mapped[str | None] = mapped_column(String(100), default=None)
    # iCalendar SEQUENCE: bumped on every reschedule or cancel.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancel_reason: Mapped[str | None] = mapped_column(Text, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Where the call happens, copied from the meeting type when booked (a later change of the type
    # does not move calls already booked); join_url: the Meet link once Google wrote the event, the
    # fixed URL of a `link` type, otherwise null. phone: the invitee's number (phone types).
    location_kind: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    location_value: Mapped[str | None] = mapped_column(String(2000), default=None)
    join_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agent: Mapped[Agent] = relationship(lazy="joined")
    meeting_type: Mapped[MeetingType] = relationship(lazy="joined")
    contact: Mapped[Contact] = relationship()

    @property
    def location(self) -> dict[str, str | None]:
        """`{kind, value, join_url}` as the booking answers show it (SPEC §14)."""
        return {"kind": self.location_kind, "value": self.location_value, "join_url": self.join_url}

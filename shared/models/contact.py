from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow


class Contact(Base):
    """The end user. Anonymous (no email) until the booking form is submitted."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True, default=None)
    first_name: Mapped[str | None] = mapped_column(String(100), default=None)
    last_name: Mapped[str | None] = mapped_column(String(100), default=None)
    company: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Visitor(Base):
    """An anonymous visitor id (widget localStorage or the host chat) and the contact it belongs to."""

    __tablename__ = "visitors"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    """One entry of a contact's timeline; the four step events feed the funnel."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_name_occurred_at", "name", "occurred_at"),
        Index("ix_events_session_id_name", "session_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True, default=None
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True, default=None)
    # The team whose link the step or booking came through (SPEC §15).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    meeting_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_types.id", ondelete="SET NULL"), default=None
    )
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), default=None)
    session_id: Mapped[str | None] = mapped_column(String(100), default=None)
    visitor_id: Mapped[str | None] = mapped_column(String(100), index=True, default=None)
    # Context the user chose (not attributes): the date of step 2, the start of step 3.
    chosen_date: Mapped[str | None] = mapped_column(String(10), default=None)
    chosen_start: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.agent import Agent
from shared.models.base import Base, UTCDateTime, utcnow
from shared.models.contact import Contact
from shared.models.meeting_type import MeetingType
from shared.models.team import Team

STATUS_CONFIRMED = "confirmed"
STATUS_CANCELLED = "cancelled"


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("agent_id", "idempotency_key", name="uq_bookings_agent_idempotency_key"),
        # A team booking's key is the team's: a retry may not land on another member.
        Index("uq_bookings_team_idempotency_key", "team_id", "idempotency_key", unique=True),
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
    # The agent who takes the call; for a collective team booking the first member (lowest id), the
    # others are its `hosts` (BookingHost), whose time it occupies as well.
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    # The team whose link it was booked through (SPEC §15); None for an agent's own link.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True, default=None)
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
    team: Mapped[Team | None] = relationship()
    # The other members of a collective booking (empty for every other booking).
    hosts: Mapped[list[BookingHost]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingHost.agent_id", lazy="selectin"
    )

    @property
    def host_agents(self) -> list[Agent]:
        """Everyone who takes the call: its agent, then a collective booking's other members."""
        return [self.agent, *(host.agent for host in self.hosts)]

    @property
    def agent_names(self) -> str:
        """Who the invitee meets, as their emails name them: the agent, or every member of a
        collective booking ("Ada Lovelace, Bob Byte")."""
        return ", ".join(agent.name for agent in self.host_agents)

    @property
    def host_agent_ids(self) -> list[int]:
        """Everyone whose time the booking occupies: its agent, then a collective booking's other members."""
        return [self.agent_id, *(host.agent_id for host in self.hosts)]

    @property
    def location(self) -> dict[str, str | None]:
        """`{kind, value, join_url}` as the booking answers show it (SPEC §14)."""
        return {"kind": self.location_kind, "value": self.location_value, "join_url": self.join_url}


class BookingHost(Base):
    """Another member of a collective team booking: the booking occupies their time too, appears in
    their bookings, and gets its own calendar event in their calendar (`provider_event_id`)."""

    __tablename__ = "booking_hosts"
    # By agent first: the per-agent reads (busy times, daily maximum, bookings list) look up by agent.
    __table_args__ = (Index("ix_booking_hosts_agent_id_booking_id", "agent_id", "booking_id"),)

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    provider_event_id: Mapped[str | None] = mapped_column(String(255), default=None)

    booking: Mapped[Booking] = relationship(back_populates="hosts")
    agent: Mapped[Agent] = relationship(lazy="joined")

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.base import Base, UTCDateTime, utcnow
from shared.models.calendar import STATUS_NEEDS_RECONNECT, CalendarConnection
from shared.models.meeting_type import MeetingType

ROLE_AGENT = "agent"
ROLE_MANAGER = "manager"

# The keys of Availability.weekly, Monday first.
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WEEKLY: dict[str, list[list[str]]] = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}


@dataclass(frozen=True)
class AvailabilityDefaults:
    """The rules of a new agent's availability, and of fields an availability update leaves out.

    The one home of these numbers: the columns below, create_agent, AvailabilityInput, the engine's
    AvailabilityRules and the admin API's schema all read them from here.
    """

    min_notice_minutes: int = 240
    horizon_days: int = 60
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    slot_interval_minutes: int = 30
    max_per_day: int | None = None
    # Cancel and reschedule by the invitee are refused this many minutes before the start (0 = never).
    change_cutoff_minutes: int = 0


AVAILABILITY_DEFAULTS = AvailabilityDefaults()


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # Public booking link id: ≥128 bits from `secrets`, rotatable (the old one stops working).
    link: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=ROLE_AGENT)
    # The language of the agent's own emails (shared.locales).
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    api_token_hash: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
    # Bumped by every booking write: the row lock that serialises one agent's bookings.
    booking_lock_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    availability: Mapped[Availability] = relationship(
        back_populates="agent", uselist=False, cascade="all, delete-orphan", lazy="joined"
    )
    # One way only: an agent owns its meeting types and calendar connection, which refer to it by
    # agent_id and do not import this module (no relationship back, so no circle of imports).
    meeting_types: Mapped[list[MeetingType]] = relationship(cascade="all, delete-orphan", order_by=MeetingType.position)
    calendar_connection: Mapped[CalendarConnection | None] = relationship(uselist=False, cascade="all, delete-orphan")

    @property
    def calendar_status(self) -> str | None:
        """The Google connection's status (connected | needs_reconnect | disconnected), None without one."""
        return None if self.calendar_connection is None else self.calendar_connection.status

    @property
    def needs_reconnect(self) -> bool:
        """The agent's Google grant was revoked: only local bookings count until they reconnect."""
        return self.calendar_status == STATUS_NEEDS_RECONNECT


class Availability(Base):
    __tablename__ = "availabilities"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["09:00","12:00"],["13:00","17:00"]], ...} in the agent's wall-clock time.
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: dict(DEFAULT_WEEKLY))
    # [{"date": "2026-12-24", "windows": []}, ...]; empty windows = day off.
    overrides: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=AVAILABILITY_DEFAULTS.min_notice_minutes)
    horizon_days: Mapped[int] = mapped_column(Integer, default=AVAILABILITY_DEFAULTS.horizon_days)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=AVAILABILITY_DEFAULTS.buffer_before_minutes)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=AVAILABILITY_DEFAULTS.buffer_after_minutes)
    slot_interval_minutes: Mapped[int] = mapped_column(Integer, default=AVAILABILITY_DEFAULTS.slot_interval_minutes)
    max_per_day: Mapped[int | None] = mapped_column(Integer, default=AVAILABILITY_DEFAULTS.max_per_day)
    change_cutoff_minutes: Mapped[int] = mapped_column(
        Integer, default=AVAILABILITY_DEFAULTS.change_cutoff_minutes, server_default=text("0")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agent: Mapped[Agent] = relationship(back_populates="availability")


class DashboardSession(Base):
    """A logged-in dashboard session; expires, and logout deletes it."""

    __tablename__ = "dashboard_sessions"

    token_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


__all__ = ["Agent", "Availability", "DashboardSession"]

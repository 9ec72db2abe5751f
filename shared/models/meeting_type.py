from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime, utcnow

# The predefined set every new agent starts with: (name, minutes, description, colour).
PREDEFINED_MEETING_TYPES: tuple[tuple[str, int, str, str], ...] = (
    ("Demo", 30, "A walk through the product, tailored to your team.", "#2563eb"),
    ("Onboarding", 45, "Set-up help for new customers: accounts, integrations, first steps.", "#16a34a"),
    ("Assistance", 15, "A quick call to solve one problem.", "#f59e0b"),
)

# Reminders of a new meeting type: minutes before the start (a day, and an hour). Types that existed
# before reminders have none (the migration's server default).
DEFAULT_REMINDER_MINUTES: tuple[int, ...] = (1440, 60)


class MeetingType(Base):
    __tablename__ = "meeting_types"
    __table_args__ = (
        # A type belongs to exactly one owner: an agent, or a team (SPEC §15, same fields and rules).
        CheckConstraint("(agent_id IS NULL) <> (team_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True, default=None)
    name: Mapped[str] = mapped_column(String(100))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    colour: Mapped[str] = mapped_column(String(16), default="#2563eb")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The type's own rules (SPEC §5, rules per meeting type); None = the agent's availability setting.
    min_notice_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    buffer_before_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    buffer_after_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    max_per_day: Mapped[int | None] = mapped_column(Integer, default=None)
    # When the invitee is reminded: minutes before the start, largest first (shared.agents.validation).
    reminder_minutes: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDER_MINUTES), server_default="[]"
    )
    # Soft delete: bookings keep pointing at the type they were made for.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where the call happens (SPEC §14): google_meet, phone, link, in_person or none; the value is
    # the agent's number, the https URL or the address (shared.agents.locations checks both).
    location_kind: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    location_value: Mapped[str | None] = mapped_column(String(2000), default=None)

    @property
    def location(self) -> dict[str, str | None]:
        """`{kind, value}` as the admin API shows it."""
        return {"kind": self.location_kind, "value": self.location_value}

    @property
    def public_location(self) -> dict[str, object]:
        """What a visitor sees before booking (SPEC §14: the kind, no value): whether the form asks
        for their phone, and for a `link` only the host name, so the widget can say "Zoom link"."""
        host = urlsplit(self.location_value).hostname if self.location_kind == "link" and self.location_value else None
        return {"kind": self.location_kind, "asks_phone": self.phone_required, "host": host}

    @property
    def phone_required(self) -> bool:
        """A phone type without the agent's number: the agent calls, so the invitee gives theirs."""
        return self.location_kind == "phone" and not self.location_value

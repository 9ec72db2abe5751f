"""Teams (SPEC §15): one booking link for several agents, booked with any free member (round robin)
or with all of them together (collective)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.models.agent import Agent
from shared.models.base import Base, UTCDateTime, utcnow

MODE_ROUND_ROBIN = "round_robin"
MODE_COLLECTIVE = "collective"
TEAM_MODES: tuple[str, ...] = (MODE_ROUND_ROBIN, MODE_COLLECTIVE)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16), default=MODE_ROUND_ROBIN)
    # Public booking link id, exactly like an agent's: ≥128 bits from `secrets`, rotatable. Team and
    # agent links are drawn from the same 160-bit space, so they never collide in practice; a link is
    # looked up among agents first, then teams.
    link: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Soft delete: the link stops working, bookings made through the team keep pointing at it.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="TeamMember.position", lazy="selectin"
    )

    @property
    def member_ids(self) -> list[int]:
        """The members' agent ids in the team's order (the order they were added in)."""
        return [member.agent_id for member in self.members]

    @property
    def agents(self) -> list[Agent]:
        """The members in the team's order."""
        return [member.agent for member in self.members]


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "agent_id", name="uq_team_members_team_agent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="members")
    agent: Mapped[Agent] = relationship(lazy="joined")


__all__ = ["MODE_COLLECTIVE", "MODE_ROUND_ROBIN", "TEAM_MODES", "Team", "TeamMember"]

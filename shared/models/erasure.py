from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, UTCDateTime

ERASED_ON_REQUEST = "request"
ERASED_BY_RETENTION = "retention"


class ContactErasure(Base):
    """That a contact's personal data was erased: when, by whom, why. Holds no personal data itself."""

    __tablename__ = "contact_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The internal id only (the contact row stays, emptied, so bookings and the funnel keep counting).
    contact_id: Mapped[int] = mapped_column(Integer, unique=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "admin token", "agent 7 (manager)", "retention": who asked, never the contact's data.
    erased_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(32), default=ERASED_ON_REQUEST)
    bookings_cancelled: Mapped[int] = mapped_column(Integer, default=0)

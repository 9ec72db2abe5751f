"""Inputs of the booking service (domain values; the HTTP schemas live in widget_api)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime


@dataclass(frozen=True)
class BookingRequest:
    meeting_type_id: int
    start: datetime
    timezone: str
    first_name: str
    last_name: str
    company_name: str
    email: str
    description: str
    visitor_id: str | None = None
    session_id: str | None = None
    # The language the invitee booked in (the widget's); resolved by shared.locales, never refused.
    locale: str | None = None
    phone: str | None = None

    def fingerprint(self) -> str:
        """A stable hash of what was asked, to tell an honest retry from a reused Idempotency-Key."""
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data.pop("visitor_id")
        data.pop("session_id")
        # Not part of what was asked (and left out so fingerprints stored before it existed still match).
        data.pop("locale")
        if data["phone"] is None:
            data.pop("phone")  # fingerprints of bookings made before phones existed stay valid
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

"""The demo seeds at any time of day: its visitors pick only starts the booking check accepts.

`meetings demo` once failed to start at 00:40 UTC on 2026-12-02 ("slot no longer available"): the
seeder treated its earlier bookings as plain intervals, while the booking check (SPEC §5) also keeps
each booking's buffers (James has 15 minutes before and 10 after), so a visitor could pick a start
inside one. Which starts the visitors pick depends on the clock, hence the several times below.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.availability.busy import booked_time
from shared.availability.engine import occupied_time
from shared.db import session_scope
from shared.demo import seed_demo
from shared.models import STATUS_CONFIRMED, Agent, Booking
from shared.settings import Settings


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 2, 0, 40, tzinfo=UTC),  # the failing start
        datetime(2026, 12, 2, 13, 5, tzinfo=UTC),
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # the night Europe moves its clocks
    ],
)
def test_the_demo_seeds_and_no_two_bookings_of_an_agent_occupy_the_same_time(
    db: sessionmaker[Session], settings: Settings, now: datetime
) -> None:
    with session_scope(db) as session:
        summary = seed_demo(session, now=now, settings=settings)
        assert summary.bookings > 0
    with session_scope(db) as session:
        for agent in session.scalars(select(Agent)):
            bookings = session.scalars(
                select(Booking)
                .where(Booking.agent_id == agent.id, Booking.status == STATUS_CONFIRMED, Booking.start_at > now)
                .order_by(Booking.start_at)
            ).all()
            spans = [occupied_time(booked_time(b, agent.availability)) for b in bookings]
            for earlier, later in zip(spans, spans[1:], strict=False):
                assert earlier.end <= later.start, (agent.email, earlier, later)

"""The Calendars week view shows the buffers a booking occupies (SPEC §5), lighter than the booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dashboard.components.charts import week_figure
from shared.accounts.scoped import calendars
from shared.agents.service import update_meeting_type
from shared.db import session_scope
from shared.models.agent import ROLE_MANAGER
from tests.factories import committed_agent


@dataclass(frozen=True)
class Manager:
    id: int
    role: str = ROLE_MANAGER


def test_buffers_around_bookings_are_blocks_of_their_own_in_a_lighter_shade(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    # The agent wants 15 minutes after every call; Demo has its own 30 before. A Demo on Tuesday
    # 2026-06-02 10:00–10:30 Warsaw occupies 09:30–10:45.
    agent_id, link, types = committed_agent(db, buffer_after_minutes=15)
    with session_scope(db) as session:
        update_meeting_type(session, meeting_type_id=types["Demo"], changes={"buffer_before_minutes": 30})
    response = client.post(
        f"/api/v1/links/{link}/bookings",
        json={
            "meeting_type_id": types["Demo"],
            "start": "2026-06-02T10:00:00+02:00",
            "timezone": "Europe/Warsaw",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company_name": "AE",
            "email": "ada@example.com",
            "description": "",
        },
    )
    assert response.status_code == 201, response.text
    with session_scope(db) as session:
        week = calendars.week_view(session, actor=Manager(agent_id), agent_id=agent_id, week_start=date(2026, 6, 1))
    buffers = sorted((b.start_hour, b.end_hour, b.label) for b in week.blocks if b.kind == calendars.KIND_BUFFER)
    assert buffers == [
        (9.5, 10.0, "Buffer before Demo (30 min): not offered"),
        (10.5, 10.75, "Buffer after Demo (15 min): not offered"),
    ]
    figure = week_figure(week)
    (trace,) = [t for t in figure.data if t.name == "Buffers around bookings"]
    (booking_trace,) = [t for t in figure.data if t.name == "Demo"]
    assert booking_trace.marker.color == "#2563eb"
    # The booking's colour, see-through: lighter than the booking itself.
    assert list(trace.marker.color) == ["rgba(37,99,235,0.3)", "rgba(37,99,235,0.3)"]
    # Drawn under the booking (added before it).
    assert list(figure.data).index(trace) < list(figure.data).index(booking_trace)

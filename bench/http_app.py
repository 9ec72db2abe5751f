"""What the HTTP benchmark serves: a seeded database for the real app, and a bare FastAPI app.

The real app is served exactly as in production, `uvicorn --factory widget_api.app:app_factory`,
configured through the environment (DATABASE_URL …) to use the database `seed_database` fills.
`bare_app` is the yardstick of SPEC §13: FastAPI with nothing but a small JSON endpoint, in a sync
(`def`, run in the thread pool like our routes) and an async flavour.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from bench.data import WEEKLY_JSON, ZONE, busy_meetings
from shared.agents.service import create_agent
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.migrate import upgrade_to_head
from shared.models import Booking, Contact, MeetingType
from shared.settings import Settings

STATUS_BODY = {"status": "ok", "service": "bare"}


def bare_app() -> FastAPI:
    """Entry point for `uvicorn --factory bench.http_app:bare_app`."""
    app = FastAPI(title="bare")

    @app.get("/bare")
    def bare() -> dict[str, str]:
        return STATUS_BODY

    @app.get("/bare-async")
    async def bare_async() -> dict[str, str]:
        return STATUS_BODY

    return app


def seed_database(database_url: str, *, now: datetime) -> tuple[str, int]:
    """Migrate, then add one Warsaw agent (Mon–Fri 09–12, 13–17) whose next 60 days hold 1,000
    confirmed bookings of 30–60 minutes. Returns (booking link, Demo meeting type id)."""
    upgrade_to_head(database_url)
    settings = Settings(environment="development", database_url=database_url)
    engine = build_engine(settings)
    try:
        with session_scope(build_sessionmaker(engine)) as session:
            agent = create_agent(session, name="Bench Agent", email="bench@example.com", timezone=ZONE.key)
            agent.availability.weekly = WEEKLY_JSON
            agent.meeting_types.append(
                MeetingType(name="Strategy", duration_minutes=60, description="", position=3, active=True)
            )
            session.flush()
            by_minutes = {m.duration_minutes: m.id for m in agent.meeting_types}
            contact = Contact(email="invitee@example.com", first_name="Ada", last_name="Lovelace", company="AE")
            session.add(contact)
            session.flush()
            first_day = now.astimezone(ZONE).date() + timedelta(days=1)
            session.add_all(
                Booking(
                    agent_id=agent.id,
                    meeting_type_id=by_minutes[minutes],
                    contact_id=contact.id,
                    start_at=start,
                    end_at=start + timedelta(minutes=minutes),
                    invitee_timezone=ZONE.key,
                    first_name="Ada",
                    last_name="Lovelace",
                    company_name="AE",
                    email="invitee@example.com",
                    manage_token=secrets.token_urlsafe(24),
                    created_at=datetime.now(UTC),
                )
                for start, minutes in busy_meetings(first_day)
            )
            return agent.link, by_minutes[30]
    finally:
        engine.dispose()

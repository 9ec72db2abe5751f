"""What the dashboard's service wrappers (shared.accounts.scoped) let each user do, on the demo data.

An agent sees and edits only their own calendar, settings, meeting types, bookings, funnel, contacts
and outbox entries; a manager everything. Checked at the service level, where the pages get their
data, so hiding a widget is never the only protection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.accounts.errors import EmailNotFound
from shared.accounts.scoped import agents, bookings, calendars, contacts, funnel, outbox
from shared.agents.schemas import AvailabilityInput
from shared.db import session_scope
from shared.errors import Forbidden, NotFound
from shared.funnel import service as funnel_service
from shared.models import STATUS_CONFIRMED, Agent, Booking, EmailMessage, Event, MeetingType, OutboxJob
from shared.models.agent import ROLE_AGENT, ROLE_MANAGER
from shared.models.outbox import JOB_FAILED, JOB_PENDING
from shared.settings import Settings
from tests.dashboard.conftest import JAMES, MANAGER, OLA, SEEDED_AT, DemoDatabase


@dataclass(frozen=True)
class Actor:
    id: int
    role: str


@dataclass(frozen=True)
class Fixture:
    ola: Actor
    manager: Actor
    james_id: int
    james_type_id: int
    james_booking_id: int
    james_job_id: int
    james_email_id: int
    ola_email_id: int


SETTINGS = Settings(environment="test")
NEW_HOURS = AvailabilityInput(timezone="UTC", weekly={"mon": [["10:00", "11:00"]]})


@pytest.fixture
def world(demo_db: DemoDatabase) -> Fixture:
    """The demo, plus a failed job and a stored email for Ola and for James."""
    with session_scope(demo_db.sessions) as session:
        ids = {a.email: a.id for a in session.scalars(select(Agent))}
        james_id = ids[JAMES]
        james_booking = session.scalars(
            select(Booking).where(
                Booking.agent_id == james_id, Booking.status == STATUS_CONFIRMED, Booking.start_at > SEEDED_AT
            )
        ).first()
        ola_booking = session.scalars(select(Booking).where(Booking.agent_id == ids[OLA])).first()
        assert james_booking is not None
        assert ola_booking is not None
        james_job = session.scalars(select(OutboxJob).where(OutboxJob.agent_id == james_id)).first()
        assert james_job is not None
        james_job.status = JOB_FAILED
        emails = [
            EmailMessage(booking_id=b.id, to_address=b.email, subject=f"Booking {b.id}", text_body="Hello")
            for b in (james_booking, ola_booking)
        ]
        session.add_all(emails)
        session.flush()
        james_type = session.scalars(select(MeetingType).where(MeetingType.agent_id == james_id)).first()
        assert james_type is not None
        return Fixture(
            ola=Actor(ids[OLA], ROLE_AGENT),
            manager=Actor(ids[MANAGER], ROLE_MANAGER),
            james_id=james_id,
            james_type_id=james_type.id,
            james_booking_id=james_booking.id,
            james_job_id=james_job.id,
            james_email_id=emails[0].id,
            ola_email_id=emails[1].id,
        )


Call = Callable[[Session, Actor, Fixture], Any]
NOW = datetime.now(UTC)

# Everything an agent must not do to another agent's data.
FORBIDDEN: dict[str, Call] = {
    "see another agent": lambda s, a, w: agents.get_agent(s, actor=a, agent_id=w.james_id),
    "edit hours": lambda s, a, w: agents.update_availability(s, actor=a, agent_id=w.james_id, data=NEW_HOURS),
    "rotate link": lambda s, a, w: agents.rotate_link(s, actor=a, agent_id=w.james_id),
    "list types": lambda s, a, w: agents.list_meeting_types(s, actor=a, agent_id=w.james_id),
    "create type": lambda s, a, w: agents.create_meeting_type(
        s, actor=a, agent_id=w.james_id, name="Mine now", duration_minutes=30
    ),
    "edit type": lambda s, a, w: agents.update_meeting_type(
        s, actor=a, agent_id=w.james_id, meeting_type_id=w.james_type_id, changes={"name": "Hijacked"}
    ),
    "delete type": lambda s, a, w: agents.delete_meeting_type(
        s, actor=a, agent_id=w.james_id, meeting_type_id=w.james_type_id, now=NOW
    ),
    "reorder types": lambda s, a, w: agents.reorder_meeting_types(s, actor=a, agent_id=w.james_id, ordered_ids=[]),
    "calendar status": lambda s, a, w: calendars.calendar_status(s, actor=a, agent_id=w.james_id, settings=SETTINGS),
    "connect google": lambda s, a, w: calendars.start_google_connect(
        s, actor=a, agent_id=w.james_id, settings=SETTINGS, now=NOW
    ),
    "disconnect google": lambda s, a, w: calendars.disconnect_google(
        s, actor=a, agent_id=w.james_id, settings=SETTINGS
    ),
    "week view": lambda s, a, w: calendars.week_view(s, actor=a, agent_id=w.james_id, week_start=date.today()),
    "upcoming bookings": lambda s, a, w: bookings.upcoming_bookings(s, actor=a, agent_id=w.james_id, now=NOW),
    "see booking": lambda s, a, w: bookings.get_booking(s, actor=a, booking_id=w.james_booking_id),
    "cancel booking": lambda s, a, w: bookings.cancel_booking(
        s, actor=a, booking_id=w.james_booking_id, reason="mine", now=NOW
    ),
    "funnel of agent": lambda s, a, w: funnel.funnel(s, actor=a, start=None, end=None, agent_id=w.james_id),
    "funnel of type": lambda s, a, w: funnel.funnel(s, actor=a, start=None, end=None, meeting_type_id=w.james_type_id),
    "retry job": lambda s, a, w: outbox.retry_job(s, actor=a, job_id=w.james_job_id, now=NOW),
    "add an agent": lambda s, a, w: agents.create_agent(
        s, actor=a, name="Mallory", email="mallory@example.com", timezone="UTC", role=ROLE_MANAGER, password=None
    ),
    "set a password": lambda s, a, w: agents.set_password(s, actor=a, agent_id=w.james_id, new_password="x" * 12),
    "deactivate": lambda s, a, w: agents.set_active(s, actor=a, agent_id=w.james_id, active=False),
}


def _snapshot(session: Session, world: Fixture) -> tuple[Any, ...]:
    james = session.get(Agent, world.james_id)
    assert james is not None
    availability = james.availability
    types = [(m.id, m.name, m.position, m.active, m.deleted_at) for m in james.meeting_types]
    booking = session.get(Booking, world.james_booking_id)
    job = session.get(OutboxJob, world.james_job_id)
    assert booking is not None
    assert job is not None
    agent_count = session.scalar(select(func.count()).select_from(Agent))
    return (
        james.link,
        james.password_hash,
        james.active,
        availability.weekly,
        availability.timezone,
        types,
        booking.status,
        job.status,
        agent_count,
    )


@pytest.mark.parametrize("what", list(FORBIDDEN))
def test_an_agent_cannot_touch_another_agents_data(demo_db: DemoDatabase, world: Fixture, what: str) -> None:
    with session_scope(demo_db.sessions) as session:
        before = _snapshot(session, world)

    with pytest.raises(Forbidden), session_scope(demo_db.sessions) as session:
        FORBIDDEN[what](session, world.ola, world)

    with session_scope(demo_db.sessions) as session:
        assert _snapshot(session, world) == before


@pytest.mark.parametrize(
    "what",
    [
        "edit hours",
        "rotate link",
        "edit type",
        "cancel booking",
        "retry job",
        "funnel of agent",
        "week view",
        "add an agent",
        "set a password",
        "deactivate",
    ],
)
def test_a_manager_may_do_it(demo_db: DemoDatabase, world: Fixture, what: str) -> None:
    with session_scope(demo_db.sessions) as session:
        FORBIDDEN[what](session, world.manager, world)


def test_an_agent_may_do_it_to_their_own_data(demo_db: DemoDatabase, world: Fixture) -> None:
    own = Fixture(**{**world.__dict__, "james_id": world.ola.id})
    with session_scope(demo_db.sessions) as session:
        agents.update_availability(session, actor=world.ola, agent_id=own.james_id, data=NEW_HOURS)
        assert agents.rotate_link(session, actor=world.ola, agent_id=world.ola.id).id == world.ola.id
        assert (
            calendars.week_view(session, actor=world.ola, agent_id=world.ola.id, week_start=date.today()).agent_id
            == world.ola.id
        )


def test_lists_hold_only_the_agents_own_entries(demo_db: DemoDatabase, world: Fixture) -> None:
    ola = world.ola
    with session_scope(demo_db.sessions) as session:
        upcoming = bookings.upcoming_bookings(session, actor=ola, now=SEEDED_AT - timedelta(days=60))
        assert upcoming
        assert {b.agent_id for b in upcoming} == {ola.id}
        assert len(bookings.upcoming_bookings(session, actor=world.manager, now=SEEDED_AT)) > len(
            bookings.upcoming_bookings(session, actor=ola, now=SEEDED_AT)
        )

        jobs = outbox.list_jobs(session, actor=ola)
        assert jobs
        assert {j.agent_id for j in jobs} == {ola.id}
        assert {e.id for e in outbox.list_emails(session, actor=ola)} == {world.ola_email_id}
        assert {e.id for e in outbox.list_emails(session, actor=world.manager)} == {
            world.ola_email_id,
            world.james_email_id,
        }
        with pytest.raises(EmailNotFound):
            outbox.get_email(session, actor=ola, email_id=world.james_email_id)
        assert sum(outbox.job_counts(session, actor=ola).values()) == len(jobs)

        assert [a.id for a in agents.visible_agents(session, actor=ola)] == [ola.id]
        assert len(agents.visible_agents(session, actor=world.manager)) == 4


def test_an_agents_funnel_is_their_own(demo_db: DemoDatabase, world: Fixture) -> None:
    with session_scope(demo_db.sessions) as session:
        mine = funnel.funnel(session, actor=world.ola, start=None, end=None)
        expected = funnel_service.funnel(session, agent_id=world.ola.id)
        everyone = funnel.funnel(session, actor=world.manager, start=None, end=None)
    assert mine.steps == expected.steps
    assert mine.steps[0].sessions < everyone.steps[0].sessions


def test_an_agent_sees_only_their_contacts_and_their_part_of_a_profile(demo_db: DemoDatabase, world: Fixture) -> None:
    with session_scope(demo_db.sessions) as session:
        theirs = set(session.scalars(select(Event.contact_id).where(Event.agent_id == world.ola.id))) | set(
            session.scalars(select(Booking.contact_id).where(Booking.agent_id == world.ola.id))
        )
        found = {c.id for c in contacts.search_contacts(session, actor=world.ola, query=None, limit=500)}
        everyone = {c.id for c in contacts.search_contacts(session, actor=world.manager, query=None, limit=500)}
        assert found
        assert found == everyone & theirs
        for contact_id in sorted(found)[:20]:
            profile = contacts.contact_profile(session, actor=world.ola, contact_id=contact_id)
            assert {b.agent_id for b in profile.bookings} <= {world.ola.id}
            assert {e.agent_id for e in profile.timeline} == {world.ola.id}
        with pytest.raises(NotFound):
            contacts.contact_profile(session, actor=world.ola, contact_id=min(everyone - found))


def test_retry_puts_the_agents_failed_job_back_in_the_queue(demo_db: DemoDatabase, world: Fixture) -> None:
    with session_scope(demo_db.sessions) as session:
        job = outbox.retry_job(session, actor=world.manager, job_id=world.james_job_id, now=NOW)
        assert (job.status, job.attempts) == (JOB_PENDING, 0)

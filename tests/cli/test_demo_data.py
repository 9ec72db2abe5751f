"""The demo data is realistic: it keeps every agent's rules and has the shape the product writes."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.demo import seed_demo
from shared.models import Agent, Booking, CalendarConnection, Event, MeetingType, OutboxJob
from shared.settings import Settings
from tests.conftest import Clock


def test_demo_bookings_keep_the_agents_rules_and_events_their_shape(
    db: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    now = clock.now
    with session_scope(db) as session:
        summary = seed_demo(session, now=now, settings=settings)
    assert summary.created

    with session_scope(db) as session:
        agents = {a.id: a for a in session.scalars(select(Agent))}
        bookings = list(session.scalars(select(Booking).order_by(Booking.start_at)))
        events = list(session.scalars(select(Event)))
        jobs = list(session.scalars(select(OutboxJob)))

    by_agent: dict[int, list[Booking]] = defaultdict(list)
    for booking in bookings:
        if booking.status == "confirmed":
            by_agent[booking.agent_id].append(booking)
    for agent_id, confirmed in by_agent.items():
        rules = agents[agent_id].availability
        # Whichever of two neighbours was booked second kept its own buffer towards the other.
        gap = timedelta(minutes=min(rules.buffer_before_minutes, rules.buffer_after_minutes))
        for earlier, later in zip(confirmed, confirmed[1:], strict=False):
            assert earlier.end_at + gap <= later.start_at
        if rules.max_per_day is not None:
            zone = ZoneInfo(rules.timezone)
            per_day = Counter(b.start_at.astimezone(zone).date() for b in confirmed)
            assert max(per_day.values()) <= rules.max_per_day
    priya = next(a for a in agents.values() if a.email == "priya@example.com")
    assert priya.availability.max_per_day == 4

    assert all(e.occurred_at <= now for e in events)
    submits = {e.booking_id: e for e in events if e.name == "calendar_4th_step_submit"}
    assert set(submits) == {b.id for b in bookings}
    for booking in bookings:
        submit = submits[booking.id]
        assert submit.session_id == booking.session_id
        assert submit.chosen_start == booking.start_at
        assert submit.attributes["email"] == booking.email
        assert booking.created_at == submit.occurred_at < booking.start_at
    # Emails exist only for calls still ahead: the past ones' emails went out long ago.
    future = {b.id for b in bookings if b.start_at > now}
    assert future
    assert {j.booking_id for j in jobs} == future
    # Some demo visitors booked in Polish and German; their calls ahead have reminders planned.
    languages = Counter(b.locale for b in bookings)
    assert languages["pl"] > 0
    assert languages["de"] > 0
    assert languages["en"] > languages["pl"] > languages["de"]
    assert {j.kind for j in jobs if j.booking_id in future} >= {"email.booking", "email.reminder"}


def test_the_demo_types_show_where_each_call_happens(
    db: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    """A Google Meet type (not connected until Google is set up), a Zoom link, a phone call the agent
    makes (its bookings carry the invitee's phone) and an in-person type."""
    with session_scope(db) as session:
        seed_demo(session, now=clock.now, settings=settings)
    with session_scope(db) as session:
        kinds = {
            (m.name, m.location_kind, m.location_value)
            for m in session.scalars(select(MeetingType).where(MeetingType.deleted_at.is_(None)))
        }
        assert ("Demo", "google_meet", None) in kinds
        assert ("Onboarding", "link", "https://zoom.us/j/5550100200") in kinds
        assert ("Assistance", "phone", None) in kinds
        assert not session.scalars(select(CalendarConnection)).first()  # so Meet shows as not connected
        phone_bookings = session.scalars(select(Booking).where(Booking.location_kind == "phone")).all()
        assert phone_bookings
        assert all(b.phone for b in phone_bookings)
        links = session.scalars(select(Booking).where(Booking.location_kind == "link")).all()
        assert links
        assert all(b.join_url == "https://zoom.us/j/5550100200" for b in links)

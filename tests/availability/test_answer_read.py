"""A slots/days miss of an agent's link read without ORM entities (shared.availability.service
read_agent / read_slots / read_days on a driver connection): the same answers as the ORM path, on
both databases, and the ORM path wherever the read cannot see everything."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.errors import MeetingTypeNotFound
from shared.availability.answers import PublicAnswers, Question
from shared.availability.busy import BusyTimeSource, LocalBookingsSource, reads_without_entities
from shared.availability.cache import AnswerCache, DriverReads
from shared.availability.rules import Busy, Interval
from shared.availability.service import (
    AgentRead,
    available_days,
    available_slots,
    default_sources,
    read_agent,
    read_days,
    read_slots,
)
from shared.db import session_scope
from shared.models import STATUS_CANCELLED, Agent, BookingHost, MeetingType
from shared.models.calendar import CalendarConnection
from tests.availability.test_service import add_booking, types_of, warsaw
from tests.factories import make_agent

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday 08:00 in Warsaw
ZONES = [ZoneInfo("Europe/Warsaw"), ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")]
DAYS = [date(2026, 6, 1) + timedelta(days=i) for i in range(9)]


@contextmanager
def _reads(engine: Engine) -> Iterator[DriverReads]:
    pooled = engine.raw_connection()
    try:
        yield DriverReads(pooled.dbapi_connection, engine.dialect)
    finally:
        pooled.close()


def _busy_agent(db: sessionmaker[Session]) -> tuple[int, str, dict[str, int]]:
    """An agent with every rule the answers read: buffers, both daily maxima, a type's own notice and
    buffers, overrides (a day off, a day with other hours, an overnight window), bookings of several
    types, a cancelled one and a collective booking it hosts for another agent."""
    with session_scope(db) as session:
        agent = make_agent(
            session,
            buffer_before_minutes=10,
            buffer_after_minutes=5,
            max_per_day=4,
            min_notice_minutes=60,
            horizon_days=30,
            slot_interval_minutes=15,
            overrides=[
                {"date": "2026-06-03", "windows": []},
                {"date": "2026-06-04", "windows": [["07:00", "11:00"], ["22:00", "02:00"]]},
            ],
        )
        types = types_of(agent)
        demo = types["Demo"]
        demo.buffer_before_minutes = 20
        demo.min_notice_minutes = 240
        demo.max_per_day = 2
        other = next(t for name, t in types.items() if name != "Demo" and t.duration_minutes != demo.duration_minutes)
        other.buffer_after_minutes = 0
        add_booking(session, agent, demo, warsaw(date(2026, 6, 2), "09:00"))
        add_booking(session, agent, other, warsaw(date(2026, 6, 2), "13:30"))
        add_booking(session, agent, demo, warsaw(date(2026, 6, 5), "10:00"))
        add_booking(session, agent, other, warsaw(date(2026, 6, 4), "22:30"))
        add_booking(session, agent, demo, warsaw(date(2026, 6, 8), "11:00"), status=STATUS_CANCELLED)
        colleague = make_agent(session)
        hosted = add_booking(session, colleague, types_of(colleague)["Demo"], warsaw(date(2026, 6, 8), "14:00"))
        session.add(BookingHost(booking_id=hosted.id, agent_id=agent.id))
        return agent.id, agent.link, {name: t.id for name, t in types.items()}


def _orm_slots(db: sessionmaker[Session], agent_id: int, type_id: int, day: date, zone: ZoneInfo) -> list[Any]:
    with session_scope(db) as session:
        agent, meeting_type = session.get_one(Agent, agent_id), session.get_one(MeetingType, type_id)
        return available_slots(
            session,
            agent=agent,
            meeting_type=meeting_type,
            day=day,
            display_zone=zone,
            now=NOW,
            sources=default_sources(),
        )


def _orm_days(db: sessionmaker[Session], agent_id: int, type_id: int, month: str, zone: ZoneInfo) -> list[date]:
    with session_scope(db) as session:
        agent, meeting_type = session.get_one(Agent, agent_id), session.get_one(MeetingType, type_id)
        return available_days(
            session,
            agent=agent,
            meeting_type=meeting_type,
            month=month,
            display_zone=zone,
            now=NOW,
            sources=default_sources(),
        )


def _read_agent(engine: Engine, link: str, type_id: int) -> AgentRead:
    with _reads(engine) as reads:
        agent = read_agent(reads, link=link, meeting_type_id=type_id)
    assert agent is not None
    return agent


def test_the_read_answers_as_the_orm_path_for_every_rule(db: sessionmaker[Session], engine: Engine) -> None:
    agent_id, link, types = _busy_agent(db)
    offered = 0
    for type_id in types.values():
        agent = _read_agent(engine, link, type_id)
        for zone in ZONES:
            for day in DAYS:
                with _reads(engine) as reads:
                    read = read_slots(reads, agent=agent, day=day, display_zone=zone, now=NOW)
                assert read == _orm_slots(db, agent_id, type_id, day, zone), (type_id, zone, day)
                offered += len(read)
            for month in ("2026-05", "2026-06", "2026-07"):
                with _reads(engine) as reads:
                    days = read_days(reads, agent=agent, month=month, display_zone=zone, now=NOW)
                assert days == _orm_days(db, agent_id, type_id, month, zone), (type_id, zone, month)
    assert offered > 0
    demo = _read_agent(engine, link, types["Demo"])
    with _reads(engine) as reads:
        tuesday = read_slots(reads, agent=demo, day=date(2026, 6, 2), display_zone=ZONES[0], now=NOW)
    assert tuesday, "the check above compared something"
    # The buffers around 09:00 (the type's 20 minutes before) and the hosted 14:00 of 8 June hold.
    assert warsaw(date(2026, 6, 2), "09:00") not in [s.start for s in tuesday]


def test_edited_rules_are_read_at_once(db: sessionmaker[Session], engine: Engine) -> None:
    agent_id, link, types = _busy_agent(db)
    before = _read_agent(engine, link, types["Demo"])
    assert _read_agent(engine, link, types["Demo"]).rules is before.rules  # parsed once
    with session_scope(db) as session:
        availability = session.get_one(Agent, agent_id).availability
        availability.weekly = {**availability.weekly, "tue": [["15:00", "16:00"]]}
        session.get_one(MeetingType, types["Demo"]).max_per_day = 3
    after = _read_agent(engine, link, types["Demo"])
    assert after.rules is not before.rules
    assert after.rules.meeting_type_max_per_day == 3
    with _reads(engine) as reads:
        slots = read_slots(reads, agent=after, day=date(2026, 6, 2), display_zone=ZONES[0], now=NOW)
    assert slots == _orm_slots(db, agent_id, types["Demo"], date(2026, 6, 2), ZONES[0])
    assert {s.start.astimezone(ZONES[0]).hour for s in slots} == {15}


def test_only_an_agents_bookable_type_is_read(db: sessionmaker[Session], engine: Engine) -> None:
    _, link, types = _busy_agent(db)
    with session_scope(db) as session:
        colleague = make_agent(session)
        foreign = types_of(colleague)["Demo"].id
        session.get_one(MeetingType, types["Demo"]).active = False
        colleague_link = colleague.link
    with _reads(engine) as reads:
        for type_id in (types["Demo"], foreign, 2**31 - 1):
            with pytest.raises(MeetingTypeNotFound):
                read_agent(reads, link=link, meeting_type_id=type_id)
        assert read_agent(reads, link="no-such-link", meeting_type_id=foreign) is None  # the ORM path's 404
        assert read_agent(reads, link="bad\x00link", meeting_type_id=foreign) is None
        assert read_agent(reads, link=colleague_link, meeting_type_id=foreign) is not None


class _Calendar(BusyTimeSource):
    def __init__(self, *, needs_connection: bool) -> None:
        self.needs_connection = needs_connection

    @property
    def needs_calendar_connection(self) -> bool:
        return self.needs_connection

    def busy_intervals(
        self, session: Session, *, agent: Agent, start: datetime, end: datetime, fresh: bool
    ) -> list[Busy]:
        return [Interval(start, end)]


def test_sources_the_read_cannot_see_take_the_orm_path() -> None:
    google_like = _Calendar(needs_connection=True)
    assert reads_without_entities([LocalBookingsSource()], has_calendar_connection=True)
    assert reads_without_entities([LocalBookingsSource(), google_like], has_calendar_connection=False)
    assert not reads_without_entities([LocalBookingsSource(), google_like], has_calendar_connection=True)
    assert not reads_without_entities([LocalBookingsSource(7)], has_calendar_connection=False)
    assert not reads_without_entities([_Calendar(needs_connection=False)], has_calendar_connection=False)


def test_a_miss_is_read_without_the_orm_path_unless_a_calendar_is_connected(
    db: sessionmaker[Session], engine: Engine
) -> None:
    agent_id, link, types = _busy_agent(db)
    answers = PublicAnswers(sessionmaker=db, engine=engine, cache=AnswerCache(ttl=0))
    question = Question(key=("slots", link), link=link, meeting_type_id=types["Demo"], now=NOW)
    orm_calls: list[int] = []

    def orm(session: Session, owner: Any, meeting_type: MeetingType) -> bytes:
        orm_calls.append(meeting_type.id)
        return b"orm"

    def read(reads: DriverReads, agent: AgentRead) -> bytes | None:
        local_only = reads_without_entities(
            [LocalBookingsSource(), _Calendar(needs_connection=True)],
            has_calendar_connection=agent.has_calendar_connection,
        )
        return b"read" if local_only else None

    assert answers.compute(question, orm, validated=None, read=read) == b"read"
    assert orm_calls == []
    with session_scope(db) as session:
        session.add(CalendarConnection(agent_id=agent_id, account_email="a@example.com"))
    assert answers.compute(question, orm, validated=None, read=read) == b"orm"
    assert orm_calls == [types["Demo"]]
    # Ids beyond the cached range keep their established answers (the ORM path).
    beyond = Question(key=("slots", link), link=link, meeting_type_id=2**31, now=NOW)
    with pytest.raises(MeetingTypeNotFound):
        answers.compute(beyond, lambda *args: pytest.fail("not reached"), validated=None, read=read)

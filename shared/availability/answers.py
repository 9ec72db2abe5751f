"""Public availability answers (a link's slots of a date, days of a month) through the AnswerCache.

The plumbing around shared.availability.cache, without the web: the widget API's slots/days routes
say which question it is and how to compute its JSON, and decide which thread runs each step (the
validation may run on the event loop, the computation never does).

The link and meeting type are validated by the same query that validates a cached answer
(`answer_version`), so an unknown link or meeting type is a 404 before anything cached is served.

A miss about an agent's link is computed without ORM entities when it can be (`Read`): the agent,
its rules and the meeting type in one Core statement, its bookings in one more, on one connection
that only reads (no Session, no commit), the parsed rules reused while the stored ones are the same
(shared.availability.service.read_agent). A team's link (SPEC §15), an agent with a connected
calendar whose busy source needs its ORM objects, and ids outside the cached range take the ORM
path (`Compute`) as before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Engine, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.bookable import is_bookable_for_team
from shared.agents.errors import LinkNotFound, MeetingTypeNotFound
from shared.agents.service import bookable_type_read, link_and_type_params
from shared.availability.cache import (
    MAX_CACHEABLE_ID,
    AnswerCache,
    AnswerVersion,
    DriverReads,
    DriverVersionReader,
    answer_version,
    generation,
)
from shared.availability.service import AgentRead, read_agent
from shared.db import session_scope
from shared.models import Agent, MeetingType, Team

Compute = Callable[[Session, Agent | Team, MeetingType], bytes]
"""The serialised answer for the agent (or team, SPEC §15) and meeting type behind the link."""

Read = Callable[[DriverReads, AgentRead], bytes | None]
"""The same answer for an agent's link read without ORM entities, on a connection that only reads;
None when it cannot be read so (a busy source that needs the agent's ORM objects): `Compute` then."""


# The agent behind a link (its availability joined, lazy="joined") and the meeting type asked for, in
# one statement built once with bound parameters: two ORM reads, and building them, were a third of
# an answer computed on a miss. Ids outside BIGINT bind as NULL and take get_bookable_meeting_type,
# which gives them their established answer (shared.booking.service._BOOKING_TARGET does the same).
_AGENT_AND_TYPE = (
    select(Agent, MeetingType)
    .outerjoin(MeetingType, MeetingType.id == bindparam("meeting_type_id", type_=BigInteger))
    .where(Agent.link == bindparam("link"), Agent.active.is_(True))
)


def owner_and_type(session: Session, *, link: str, meeting_type_id: int) -> tuple[Agent | Team, MeetingType]:
    """The active agent or the team behind a link and its bookable meeting type; LinkNotFound, then
    MeetingTypeNotFound, as the agent path always raised them (get_agent_by_link, then
    get_bookable_meeting_type)."""
    row = session.execute(
        _AGENT_AND_TYPE, link_and_type_params(link=link, meeting_type_id=meeting_type_id)
    ).one_or_none()
    if row is None:
        team = session.scalar(select(Team).where(Team.link == link, Team.deleted_at.is_(None)))
        if team is None:
            raise LinkNotFound()
        team_type = session.get(MeetingType, meeting_type_id)
        if team_type is None or not is_bookable_for_team(team_type, team_id=team.id):
            raise MeetingTypeNotFound() from None
        return team, team_type
    agent, read = row
    return agent, bookable_type_read(session, agent=agent, meeting_type_id=meeting_type_id, read=read)


@dataclass(frozen=True, slots=True)
class Question:
    """One public availability question: its cache key, and the link and type it is about."""

    key: Hashable
    link: str
    meeting_type_id: int
    now: datetime

    @property
    def cacheable(self) -> bool:
        """Ids outside the cached range take the uncached path (and its established answers)."""
        return 0 < self.meeting_type_id <= MAX_CACHEABLE_ID


@dataclass(frozen=True, slots=True)
class Validated:
    """The question's link and type checked (404s raised), with what a stored answer must match."""

    version: AnswerVersion
    generation: int
    cached: bytes | None  # the stored answer, when still valid


class PublicAnswers:
    """The answers of one process: its session factory, the engine for validations, its cache."""

    def __init__(self, *, sessionmaker: sessionmaker[Session], engine: Engine, cache: AnswerCache) -> None:
        self.sessionmaker = sessionmaker
        self.engine = engine
        self.cache = cache

    def look_up(self, question: Question, *, reader: DriverVersionReader | None = None) -> Validated:
        """Validate link and meeting type with the one query that also validates a stored answer.

        `reader`: the query on a driver connection of another engine (the SQLite connection reserved
        for the event loop); when the driver fails, the same query through SQLAlchemy on that engine.
        """
        seen_generation = generation()  # read before the version: a write committed after it misses
        link, meeting_type_id = question.link, question.meeting_type_id
        version = reader.version(link=link, meeting_type_id=meeting_type_id) if reader is not None else None
        if version is None:
            with (reader.engine if reader is not None else self.engine).connect() as connection:
                version = answer_version(connection, link=link, meeting_type_id=meeting_type_id)
        cached = self.cache.get(question.key, version=version, generation=seen_generation, now=question.now)
        return Validated(version=version, generation=seen_generation, cached=cached)

    def compute(
        self, question: Question, compute: Compute, *, validated: Validated | None, read: Read | None = None
    ) -> bytes:
        """Compute the answer (by `read` when it can, else in its own ORM transaction); stored when
        the question was `validated` first."""
        body = self._read(question, read) if read is not None and question.cacheable else None
        if body is None:
            with session_scope(self.sessionmaker) as session:
                owner, meeting_type = owner_and_type(
                    session, link=question.link, meeting_type_id=question.meeting_type_id
                )
                body = compute(session, owner, meeting_type)
        if validated is not None:
            self.cache.put(
                question.key, body, version=validated.version, generation=validated.generation, now=question.now
            )
        return body

    def _read(self, question: Question, read: Read) -> bytes | None:
        """The answer by `read` on a driver connection from the pool; None (the ORM path) when the
        link is not an agent's, `read` declines, or the driver fails (the ORM path then raises it
        as SQLAlchemy does). Nothing is written: on SQLite no transaction is begun for reads, on
        PostgreSQL the one begun is rolled back when the connection goes back to the pool."""
        pooled = self.engine.raw_connection()
        try:
            reads = DriverReads(pooled.dbapi_connection, self.engine.dialect)
            agent = read_agent(reads, link=question.link, meeting_type_id=question.meeting_type_id)
            return read(reads, agent) if agent is not None else None
        except self.engine.dialect.loaded_dbapi.Error:
            pooled.invalidate()  # a connection that failed is not given to the next request
            return None
        finally:
            pooled.close()

    def answer(self, question: Question, compute: Compute, read: Read | None = None) -> bytes:
        """The stored answer when still valid, else computed (and stored); uncacheable ids computed."""
        if not question.cacheable:
            return self.compute(question, compute, validated=None, read=read)
        validated = self.look_up(question)
        if validated.cached is not None:
            return validated.cached
        return self.compute(question, compute, validated=validated, read=read)

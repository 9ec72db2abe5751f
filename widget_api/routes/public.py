"""The public widget API (SPEC §6): no authentication, called by the widget from any embed origin."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Header, Query, Request, Response, status
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send
from typing_extensions import TypedDict

from shared.agents.errors import LinkNotFound
from shared.agents.service import bookable_meeting_types
from shared.availability.answers import Compute, PublicAnswers, Question, Read
from shared.availability.busy import reads_without_entities
from shared.availability.cache import DriverReads, DriverVersionReader
from shared.availability.rules import Slot
from shared.availability.service import AgentRead, available_days, available_slots, read_days, read_slots
from shared.booking import service as booking_service
from shared.booking.schemas import BookingRequest
from shared.contacts.service import record_widget_step
from shared.db import transaction
from shared.errors import InvalidInput
from shared.models import Agent, MeetingType, Team
from shared.notifications.ics import booking_ics
from shared.teams.availability import team_available_days, team_available_slots
from shared.teams.links import resolve_link, team_timezone
from shared.teams.service import bookable_team_meeting_types, find_team_by_link
from shared.timezones import parse_date, zone
from widget_api.deps import BusySourcesDep, NowDep, SessionDep, SettingsDep
from widget_api.schemas import (
    AgentPublic,
    BookingCreated,
    BookingIn,
    BookingOut,
    CancelIn,
    CollectiveBookingCreated,
    DaysOut,
    EventIn,
    LinkOut,
    MeetingTypePublic,
    RescheduleIn,
    SlotsOut,
    TeamBookingCreated,
    TeamLinkOut,
    TeamPublic,
    booking_created,
)

router = APIRouter(prefix="/api/v1", tags=["widget"])

# The writing routes (events, bookings, cancel, reschedule) end their transaction inside the route,
# in its own thread, with `transaction(session)`, instead of leaving the commit to SessionDep. FastAPI
# validates a sync route's response in another thread-pool hop *before* it runs the session's
# teardown, so a request holding the agent's lock (SQLite's write lock, PostgreSQL's row lock) would
# wait there for a free thread. Under contention every thread can be a request waiting for that very
# lock: SQLite then gives up after its 30 s busy_timeout (503s), PostgreSQL would wait for ever.
# Committed in the route, the lock is gone before the thread is given back; the teardown's commit is
# then a no-op. tests/api/test_contention.py checks it with a 6-thread server.

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown link or meeting type"},
    422: {"description": "Invalid input"},
}


@router.get("/links/{link}", response_model=LinkOut | TeamLinkOut, responses=ERRORS)
def get_link(link: str, session: SessionDep) -> LinkOut | TeamLinkOut:
    """The agent behind a booking link and their bookable meeting types; for a team's link (SPEC §15)
    also `team: {name, mode}` and the team's meeting types."""
    owner = resolve_link(session, link=link)
    if isinstance(owner, Team):
        return TeamLinkOut(
            agent=AgentPublic(name=owner.name, timezone=team_timezone(owner)),
            team=TeamPublic.of(owner),
            meeting_types=[MeetingTypePublic.of(m) for m in bookable_team_meeting_types(session, team=owner)],
        )
    return LinkOut(
        agent=AgentPublic.of(owner),
        meeting_types=[MeetingTypePublic.of(m) for m in bookable_meeting_types(session, agent=owner)],
    )


class _SlotJson(TypedDict):
    start: datetime
    end: datetime


class _SlotsJson(TypedDict):
    timezone: str
    slots: list[_SlotJson]


# SlotsOut's fields and serialisation (the same bytes: tests/availability check the format), without
# validating a model per slot, which the answer does not need: the engine made every value.
_SLOTS_JSON = TypeAdapter(_SlotsJson)


def slots_json(tz: str, slots: Sequence[Slot], display_zone: ZoneInfo) -> bytes:
    """The body of `GET …/slots`: SlotsOut as JSON, times in the invitee's zone."""
    answer: _SlotsJson = {
        "timezone": tz,
        "slots": [{"start": s.start.astimezone(display_zone), "end": s.end.astimezone(display_zone)} for s in slots],
    }
    return _SLOTS_JSON.dump_json(answer)


def days_json(tz: str, days: Sequence[date]) -> bytes:
    """The body of `GET …/days`: DaysOut as JSON."""
    return DaysOut(timezone=tz, days=[d.isoformat() for d in days]).model_dump_json().encode()


Asked = tuple[Question, Compute, Read]
"""A slots/days question and how to compute its JSON (through the ORM, or read without it)."""


def _local_only(state: Any, agent: AgentRead) -> bool:
    """Whether the app's busy sources report nothing beyond the agent's bookings (no Google
    connection, or Google not configured): then the answer is read without ORM entities."""
    return reads_without_entities(state.busy_sources(), has_calendar_connection=agent.has_calendar_connection)


def _days_question(state: Any, *, link: str, meeting_type_id: int, month: str, tz: str) -> Asked:
    if not MONTH.fullmatch(month):
        raise InvalidInput(f"month must be YYYY-MM, got {month!r}")
    display_zone = zone(tz)
    now: datetime = state.clock()

    def compute(session: Session, owner: Agent | Team, meeting_type: MeetingType) -> bytes:
        sources = state.busy_sources()
        if isinstance(owner, Team):
            days = team_available_days(
                session,
                team=owner,
                meeting_type=meeting_type,
                month=month,
                display_zone=display_zone,
                now=now,
                sources=sources,
            )
        else:
            days = available_days(
                session,
                agent=owner,
                meeting_type=meeting_type,
                month=month,
                display_zone=display_zone,
                now=now,
                sources=sources,
            )
        return days_json(tz, days)

    def read(reads: DriverReads, agent: AgentRead) -> bytes | None:
        if not _local_only(state, agent):
            return None
        days = read_days(reads, agent=agent, month=month, display_zone=display_zone, now=now)
        return days_json(tz, days)

    key = ("days", link, meeting_type_id, month, tz)
    return Question(key=key, link=link, meeting_type_id=meeting_type_id, now=now), compute, read


def _slots_question(state: Any, *, link: str, meeting_type_id: int, date: str, tz: str) -> Asked:
    day = parse_date(date)
    display_zone = zone(tz)
    now: datetime = state.clock()

    def compute(session: Session, owner: Agent | Team, meeting_type: MeetingType) -> bytes:
        sources = state.busy_sources()
        if isinstance(owner, Team):
            slots = team_available_slots(
                session,
                team=owner,
                meeting_type=meeting_type,
                day=day,
                display_zone=display_zone,
                now=now,
                sources=sources,
            )
        else:
            slots = available_slots(
                session,
                agent=owner,
                meeting_type=meeting_type,
                day=day,
                display_zone=display_zone,
                now=now,
                sources=sources,
            )
        return slots_json(tz, slots, display_zone)

    def read(reads: DriverReads, agent: AgentRead) -> bytes | None:
        if not _local_only(state, agent):
            return None
        slots = read_slots(reads, agent=agent, day=day, display_zone=display_zone, now=now)
        return slots_json(tz, slots, display_zone)

    key = ("slots", link, meeting_type_id, day, tz)
    return Question(key=key, link=link, meeting_type_id=meeting_type_id, now=now), compute, read


def _loop_reader(state: Any) -> DriverVersionReader | None:
    """The validation query on the event loop's own SQLite connection (widget_api.app's lifespan)."""
    reader: DriverVersionReader | None = getattr(state, "loop_version_reader", None)
    return reader


async def _answer(state: Any, asked: Asked) -> bytes:
    """The JSON answer from this process's answer cache when still valid, else computed and stored
    (shared.availability.answers), with the database work off the event loop in one thread hop.

    On SQLite the validation query (an indexed read of a local file, ~15 µs on the driver's cursor,
    which WAL never makes wait for a writer) runs on the event loop on the connection reserved for
    it (app.state.loop_engine), so a cache hit needs no hop at all; on PostgreSQL it is a network
    round trip and stays in the hop.
    """
    question, compute, read = asked
    answers = PublicAnswers(sessionmaker=state.sessionmaker, engine=state.engine, cache=state.answer_cache)
    reader = _loop_reader(state)
    if question.cacheable and reader is not None:
        validated = answers.look_up(question, reader=reader)
        if validated.cached is not None:
            return validated.cached
        return await run_in_threadpool(answers.compute, question, compute, validated=validated, read=read)
    return await run_in_threadpool(answers.answer, question, compute, read)


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


# The query parameters a canonical request carries, each once; meeting type ids as FastAPI reads
# them whatever else they might be (leading zeros, signs, spaces take FastAPI's own path).
_CANONICAL_ID = re.compile(r"[1-9][0-9]{0,18}")
_QUESTION_PARAMS = {"get_days": ("month", "tz"), "get_slots": ("date", "tz")}
_QUESTIONS: dict[str, Callable[..., Asked]] = {"get_days": _days_question, "get_slots": _slots_question}


class AnswerRoute(APIRoute):
    """The slots and days routes, which answer a canonical GET themselves (ASGI, no Request).

    Why: FastAPI's per-request work for a route (the parameters solved and validated one by one, the
    request wrapper, two exit stacks) costs a slots request, whose answer is usually a cache hit,
    about as much CPU as the rest of it. A GET whose query has `meeting_type_id` (a plain positive
    integer), the date or month and `tz`, each exactly once, is answered here with the same question
    and the same `_answer` the route function uses; an error raised on the way (404, an invalid
    date or zone, 503) reaches the app's exception handlers as the route's would. Every other request
    (a parameter missing, repeated or not in that form: FastAPI's own 422s) goes to FastAPI's handler
    and the route function as before, which is also what the OpenAPI schema describes.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self._params = _QUESTION_PARAMS[endpoint.__name__]
        self._question = _QUESTIONS[endpoint.__name__]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        values = _canonical_query(scope["query_string"], self._params) if scope["method"] == "GET" else None
        if values is None:
            await super().handle(scope, receive, send)
            return
        meeting_type_id, first, second = values
        state = scope["app"].state
        asked = self._question(
            state,
            link=scope["path_params"]["link"],
            meeting_type_id=meeting_type_id,
            **{self._params[0]: first, self._params[1]: second},
        )
        body = await _answer(state, asked)
        # What Response(content=body, media_type="application/json") sends, without building one.
        headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@lru_cache(maxsize=4096)
def _canonical_query(query_string: bytes, params: tuple[str, str]) -> tuple[int, str, str] | None:
    """(meeting type id, the two other values) of a canonical query, else None. Parsed as
    Starlette's QueryParams parses it; the values are checked by the route's question."""
    seen: dict[str, str] = {}
    wanted = ("meeting_type_id", *params)
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in wanted:
            if name in seen:
                return None  # FastAPI reads the last of repeated values: its path decides
            seen[name] = value
    if len(seen) != len(wanted) or not _CANONICAL_ID.fullmatch(seen["meeting_type_id"]):
        return None
    return int(seen["meeting_type_id"]), seen[params[0]], seen[params[1]]


async def get_days(
    request: Request,
    link: str,
    meeting_type_id: int,
    month: Annotated[str, Query(description="YYYY-MM")],
    tz: Annotated[str, Query(description="The invitee's IANA time zone")],
) -> Response:
    """Dates of the month (in the invitee's zone) that have at least one free slot."""
    state = request.app.state
    asked = _days_question(state, link=link, meeting_type_id=meeting_type_id, month=month, tz=tz)
    return _json(await _answer(state, asked))


async def get_slots(
    request: Request,
    link: str,
    meeting_type_id: int,
    date: Annotated[str, Query(description="YYYY-MM-DD in the invitee's zone")],
    tz: Annotated[str, Query(description="The invitee's IANA time zone")],
) -> Response:
    """Free slots starting on that date in the invitee's zone, with times in that zone."""
    state = request.app.state
    asked = _slots_question(state, link=link, meeting_type_id=meeting_type_id, date=date, tz=tz)
    return _json(await _answer(state, asked))


# Added here with their own route class (on `router` itself: an included router would be one more
# level of matching per request), so the routes and the OpenAPI schema keep their order.
router.add_api_route(
    "/links/{link}/days", get_days, response_model=DaysOut, responses=ERRORS, route_class_override=AnswerRoute
)
router.add_api_route(
    "/links/{link}/slots", get_slots, response_model=SlotsOut, responses=ERRORS, route_class_override=AnswerRoute
)


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
def post_event(body: EventIn, session: SessionDep, now: NowDep) -> dict[str, str]:
    """Record a funnel step (calendar_1st_step … calendar_3rd_step) of one widget session."""
    with transaction(session):
        record_widget_step(
            session,
            name=body.name,
            link=body.link,
            visitor_id=body.visitor_id,
            session_id=body.session_id,
            meeting_type_id=body.meeting_type_id,
            chosen_date=body.date,
            chosen_start=body.start,
            now=now,
        )
    return {"status": "accepted"}


@router.post(
    "/links/{link}/bookings",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingCreated | TeamBookingCreated | CollectiveBookingCreated,
    responses={**ERRORS, 409: {"description": "Slot no longer available"}},
)
def create_booking(
    link: str,
    body: BookingIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    sources: BusySourcesDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> BookingCreated:
    """Book a call. A retry with the same Idempotency-Key returns the same booking (200)."""
    request = BookingRequest(**body.model_dump())
    with transaction(session):
        try:
            booking, created = booking_service.book(
                session, link=link, request=request, idempotency_key=idempotency_key, now=now, sources=sources
            )
        except LinkNotFound:
            # Not an agent's link: a team's (SPEC §15), or a 404 as before.
            team = find_team_by_link(session, link=link)
            if team is None:
                raise
            booking, created = booking_service.book_team(
                session, team=team, request=request, idempotency_key=idempotency_key, now=now, sources=sources
            )
    if not created:
        response.status_code = status.HTTP_200_OK
    return booking_created(booking, settings)


@router.get("/bookings/{manage_token}", response_model=BookingOut, responses=ERRORS)
def get_booking(manage_token: str, session: SessionDep, settings: SettingsDep) -> BookingOut:
    return BookingOut.of(booking_service.get_booking_by_token(session, manage_token=manage_token), settings)


@router.post(
    "/bookings/{manage_token}/cancel",
    response_model=BookingOut,
    responses={**ERRORS, 409: {"description": "Within the agent's change cut-off of the start"}},
)
def cancel_booking(
    manage_token: str,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    body: Annotated[CancelIn | None, Body()] = None,
) -> BookingOut:
    with transaction(session):
        booking = booking_service.cancel(
            session, manage_token=manage_token, reason=body.reason if body else None, now=now
        )
    return BookingOut.of(booking, settings)


@router.post(
    "/bookings/{manage_token}/reschedule",
    response_model=BookingOut,
    responses={
        **ERRORS,
        409: {"description": "Slot no longer available, booking cancelled, or within the change cut-off"},
    },
)
def reschedule_booking(
    manage_token: str,
    body: RescheduleIn,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    sources: BusySourcesDep,
) -> BookingOut:
    with transaction(session):
        booking = booking_service.reschedule(
            session, manage_token=manage_token, start=body.start, now=now, sources=sources
        )
    return BookingOut.of(booking, settings)


@router.get("/bookings/{manage_token}/ics", responses={200: {"content": {"text/calendar": {}}}, **ERRORS})
def booking_ics_download(manage_token: str, session: SessionDep, now: NowDep) -> Response:
    booking = booking_service.get_booking_by_token(session, manage_token=manage_token)
    return Response(
        content=booking_ics(booking, now=now),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="booking-{booking.id}.ics"'},
    )

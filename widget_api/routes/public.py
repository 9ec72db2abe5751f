"""The public widget API (SPEC §6): no authentication, called by the widget from any embed origin."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response, status
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shared.agents.service import bookable_meeting_types, get_agent_by_link, get_bookable_meeting_type
from shared.availability.cache import MAX_CACHEABLE_ID, AnswerCache, AnswerVersion, answer_version, generation
from shared.availability.service import available_days, available_slots
from shared.booking import service as booking_service
from shared.booking.schemas import BookingRequest
from shared.contacts.errors import CLIENT_STEP_EVENTS, UnknownEvent
from shared.contacts.service import contact_for_visitor, record_event
from shared.db import session_scope, transaction
from shared.errors import InvalidInput
from shared.models import Agent, Booking, MeetingType
from shared.notifications.ics import booking_ics
from shared.notifications.webhooks import plan_event_webhooks
from shared.settings import Settings
from shared.timezones import zone
from widget_api.deps import BusySourcesDep, NowDep, SessionDep, SettingsDep
from widget_api.schemas import (
    AgentPublic,
    BookingCreated,
    BookingIn,
    BookingMeetingType,
    BookingOut,
    CancelIn,
    DaysOut,
    EventIn,
    LinkOut,
    MeetingTypePublic,
    RescheduleIn,
    SlotOut,
    SlotsOut,
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


def _parse_date(value: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"date must be YYYY-MM-DD, got {value!r}") from None


def _booking_out(booking: Booking, settings: Settings) -> BookingOut:
    invitee_zone = zone(booking.invitee_timezone)
    return BookingOut(
        id=booking.id,
        status=booking.status,
        start=booking.start_at.astimezone(invitee_zone),
        end=booking.end_at.astimezone(invitee_zone),
        timezone=booking.invitee_timezone,
        agent=AgentPublic(name=booking.agent.name, timezone=booking.agent.timezone),
        meeting_type=BookingMeetingType(
            id=booking.meeting_type.id,
            name=booking.meeting_type.name,
            duration_minutes=booking.meeting_type.duration_minutes,
        ),
        first_name=booking.first_name,
        last_name=booking.last_name,
        company_name=booking.company_name,
        email=booking.email,
        description=booking.description,
        cancel_reason=booking.cancel_reason,
        manage_url=settings.manage_url(booking.manage_token),
        ics_url=settings.ics_url(booking.manage_token),
    )


@router.get("/links/{link}", response_model=LinkOut, responses=ERRORS)
def get_link(link: str, session: SessionDep) -> LinkOut:
    """The agent behind a booking link and their bookable meeting types."""
    agent = get_agent_by_link(session, link=link)
    return LinkOut(
        agent=AgentPublic(name=agent.name, timezone=agent.timezone),
        meeting_types=[
            MeetingTypePublic(id=m.id, name=m.name, duration_minutes=m.duration_minutes, description=m.description)
            for m in bookable_meeting_types(session, agent=agent)
        ],
    )


Compute = Callable[[Session, Agent, MeetingType], bytes]


def _lookup(
    state: Any, *, key: Hashable, link: str, meeting_type_id: int, now: datetime, engine: Engine | None = None
) -> tuple[AnswerVersion, int, bytes | None]:
    """Validate link and meeting type (404s) with the one query that also validates a cached answer."""
    seen_generation = generation()  # read before the version: a write committed after it misses
    with (engine or state.engine).connect() as connection:
        version = answer_version(connection, link=link, meeting_type_id=meeting_type_id)
    cache: AnswerCache = state.answer_cache
    return version, seen_generation, cache.get(key, version=version, generation=seen_generation, now=now)


def _compute(
    state: Any,
    *,
    key: Hashable,
    link: str,
    meeting_type_id: int,
    now: datetime,
    compute: Compute,
    validated: tuple[AnswerVersion, int] | None,
) -> bytes:
    with session_scope(state.sessionmaker) as session:
        agent = get_agent_by_link(session, link=link)
        meeting_type = get_bookable_meeting_type(session, agent=agent, meeting_type_id=meeting_type_id)
        body = compute(session, agent, meeting_type)
    if validated is not None:
        cache: AnswerCache = state.answer_cache
        cache.put(key, body, version=validated[0], generation=validated[1], now=now)
    return body


def _lookup_or_compute(
    state: Any, *, key: Hashable, link: str, meeting_type_id: int, now: datetime, compute: Compute
) -> bytes:
    version, seen_generation, body = _lookup(state, key=key, link=link, meeting_type_id=meeting_type_id, now=now)
    if body is not None:
        return body
    return _compute(
        state,
        key=key,
        link=link,
        meeting_type_id=meeting_type_id,
        now=now,
        compute=compute,
        validated=(version, seen_generation),
    )


async def _answer(
    request: Request, *, key: Hashable, link: str, meeting_type_id: int, now: datetime, compute: Compute
) -> Response:
    """The JSON answer from this process's AnswerCache when still valid (shared.availability.cache),
    else computed (and stored). The link and meeting type are validated by the same query that
    validates a cached answer, so an unknown link or meeting type is a 404 before anything cached is
    served.

    Database work runs in the thread pool, in one hop. On SQLite the validation query (an indexed
    read of a local file, ~40 µs, which WAL never makes wait for a writer) runs on the event loop on
    the connection reserved for it (app.state.loop_engine), so a cache hit needs no hop at all; on
    PostgreSQL it is a network round trip and stays in the hop.
    """
    state = request.app.state
    if not 0 < meeting_type_id <= MAX_CACHEABLE_ID:
        body = await run_in_threadpool(
            _compute,
            state,
            key=key,
            link=link,
            meeting_type_id=meeting_type_id,
            now=now,
            compute=compute,
            validated=None,
        )
    elif (loop_engine := getattr(state, "loop_engine", None)) is not None:
        version, seen_generation, cached = _lookup(
            state, key=key, link=link, meeting_type_id=meeting_type_id, now=now, engine=loop_engine
        )
        body = (
            cached
            if cached is not None
            else await run_in_threadpool(
                _compute,
                state,
                key=key,
                link=link,
                meeting_type_id=meeting_type_id,
                now=now,
                compute=compute,
                validated=(version, seen_generation),
            )
        )
    else:
        body = await run_in_threadpool(
            _lookup_or_compute, state, key=key, link=link, meeting_type_id=meeting_type_id, now=now, compute=compute
        )
    return Response(content=body, media_type="application/json")


@router.get("/links/{link}/days", response_model=DaysOut, responses=ERRORS)
async def get_days(
    request: Request,
    link: str,
    meeting_type_id: int,
    month: Annotated[str, Query(description="YYYY-MM")],
    tz: Annotated[str, Query(description="The invitee's IANA time zone")],
) -> Response:
    """Dates of the month (in the invitee's zone) that have at least one free slot."""
    if not MONTH.fullmatch(month):
        raise InvalidInput(f"month must be YYYY-MM, got {month!r}")
    display_zone = zone(tz)
    now: datetime = request.app.state.clock()

    def compute(session: Session, agent: Agent, meeting_type: MeetingType) -> bytes:
        days = available_days(
            session,
            agent=agent,
            meeting_type=meeting_type,
            month=month,
            display_zone=display_zone,
            now=now,
            sources=request.app.state.busy_sources(),
        )
        return DaysOut(timezone=tz, days=[d.isoformat() for d in days]).model_dump_json().encode()

    key = ("days", link, meeting_type_id, month, tz)
    return await _answer(request, key=key, link=link, meeting_type_id=meeting_type_id, now=now, compute=compute)


@router.get("/links/{link}/slots", response_model=SlotsOut, responses=ERRORS)
async def get_slots(
    request: Request,
    link: str,
    meeting_type_id: int,
    date: Annotated[str, Query(description="YYYY-MM-DD in the invitee's zone")],
    tz: Annotated[str, Query(description="The invitee's IANA time zone")],
) -> Response:
    """Free slots starting on that date in the invitee's zone, with times in that zone."""
    day = _parse_date(date)
    display_zone = zone(tz)
    now: datetime = request.app.state.clock()

    def compute(session: Session, agent: Agent, meeting_type: MeetingType) -> bytes:
        slots = available_slots(
            session,
            agent=agent,
            meeting_type=meeting_type,
            day=day,
            display_zone=display_zone,
            now=now,
            sources=request.app.state.busy_sources(),
        )
        answer = SlotsOut(
            timezone=tz,
            slots=[SlotOut(start=s.start.astimezone(display_zone), end=s.end.astimezone(display_zone)) for s in slots],
        )
        return answer.model_dump_json().encode()

    key = ("slots", link, meeting_type_id, day, tz)
    return await _answer(request, key=key, link=link, meeting_type_id=meeting_type_id, now=now, compute=compute)


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
def post_event(body: EventIn, session: SessionDep, now: NowDep) -> dict[str, str]:
    """Record a funnel step (calendar_1st_step … calendar_3rd_step) of one widget session."""
    if body.name not in CLIENT_STEP_EVENTS:
        raise UnknownEvent(body.name)
    with transaction(session):
        agent = get_agent_by_link(session, link=body.link)
        meeting_type_id = None
        if body.meeting_type_id is not None:
            meeting_type_id = get_bookable_meeting_type(session, agent=agent, meeting_type_id=body.meeting_type_id).id
        chosen_date = _parse_date(body.date).isoformat() if body.date is not None else None
        contact = contact_for_visitor(session, visitor_id=body.visitor_id)
        event = record_event(
            session,
            name=body.name,
            contact_id=contact.id,
            agent_id=agent.id,
            meeting_type_id=meeting_type_id,
            session_id=body.session_id,
            visitor_id=body.visitor_id,
            chosen_date=chosen_date,
            chosen_start=body.start,
            occurred_at=now,
        )
        plan_event_webhooks(session, event=event)
    return {"status": "accepted"}


@router.post(
    "/links/{link}/bookings",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingCreated,
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
    with transaction(session):
        booking, created = booking_service.book(
            session,
            link=link,
            request=BookingRequest(**body.model_dump(exclude={"locale"})),  # locale: stored by issue 16 (remind16)
            idempotency_key=idempotency_key,
            now=now,
            sources=sources,
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    invitee_zone = zone(booking.invitee_timezone)
    return BookingCreated(
        id=booking.id,
        start=booking.start_at.astimezone(invitee_zone),
        end=booking.end_at.astimezone(invitee_zone),
        manage_url=settings.manage_url(booking.manage_token),
        ics_url=settings.ics_url(booking.manage_token),
    )


@router.get("/bookings/{manage_token}", response_model=BookingOut, responses=ERRORS)
def get_booking(manage_token: str, session: SessionDep, settings: SettingsDep) -> BookingOut:
    return _booking_out(booking_service.get_booking_by_token(session, manage_token=manage_token), settings)


@router.post("/bookings/{manage_token}/cancel", response_model=BookingOut, responses=ERRORS)
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
    return _booking_out(booking, settings)


@router.post(
    "/bookings/{manage_token}/reschedule",
    response_model=BookingOut,
    responses={**ERRORS, 409: {"description": "Slot no longer available or booking cancelled"}},
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
    return _booking_out(booking, settings)


@router.get("/bookings/{manage_token}/ics", responses={200: {"content": {"text/calendar": {}}}, **ERRORS})
def booking_ics_download(manage_token: str, session: SessionDep) -> Response:
    booking = booking_service.get_booking_by_token(session, manage_token=manage_token)
    return Response(
        content=booking_ics(booking),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="booking-{booking.id}.ics"'},
    )

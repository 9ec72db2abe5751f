"""The admin API (SPEC §7): manager scope, `Authorization: Bearer <MEETINGS_ADMIN_TOKEN>`.

Thin: each endpoint calls one service in shared/ (the dashboard calls the same ones) and shapes the
answer. The Google connect/callback endpoints live in routes/oauth.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from shared.accounts.permissions import is_manager, require_can_manage_agent, require_manager
from shared.accounts.scoped import agents as scoped_agents
from shared.accounts.scoped import contacts as scoped_contacts
from shared.accounts.scoped import funnel as scoped_funnel
from shared.agents import service as agents
from shared.agents.errors import CalendarNotConnected
from shared.agents.schemas import AvailabilityInput, MeetingTypeChanges
from shared.apitokens import service as apitokens
from shared.calendars.google import service as google_calendar
from shared.contacts.queries import SEARCH_LIMIT_MAX, ContactProfile, contact_profile, search_contacts
from shared.errors import InvalidInput, NotFound
from shared.funnel.schemas import FunnelResult, Granularity
from shared.models import Agent, Availability, Booking, MeetingType
from shared.reports.bookings import PAGE_LIMIT_MAX, list_bookings
from shared.settings import Settings
from widget_api.admin_schemas import (
    AdminBookingOut,
    AgentIn,
    AgentOut,
    AgentRef,
    AvailabilityIn,
    AvailabilityOut,
    BookedTimeOut,
    BookingPageOut,
    CalendarOut,
    ContactOut,
    FunnelFiltersOut,
    FunnelOut,
    FunnelStepOut,
    MeetingTypeIn,
    MeetingTypeOut,
    MeetingTypePatch,
    MeetingTypeRef,
    StepDurationOut,
    TimelineEntryOut,
    TrendPointOut,
)
from widget_api.deps import AdminDep, NowDep, SessionDep, SettingsDep, require_admin

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    # Every admin endpoint, present and future: 401 without a bearer token, 403 with a wrong one.
    dependencies=[Depends(require_admin)],
    responses={
        401: {"description": "Missing bearer token"},
        403: {"description": "Wrong token, or an agent token on another agent's data or a manager-only endpoint"},
        422: {"description": "Invalid input; `detail` says which field and why"},
    },
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown agent or meeting type"}}


def _moment(value: str | None, label: str) -> datetime | None:
    """An ISO 8601 datetime with offset from a query string ('Z' allowed); InvalidInput otherwise."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{label} must be an ISO 8601 datetime such as 2026-06-01T00:00:00Z, got {value!r}"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{label} must carry a UTC offset, e.g. 2026-06-01T00:00:00Z")
    return moment


def _agent_out(agent: Agent, settings: Settings) -> AgentOut:
    connection = agent.calendar_connection
    return AgentOut(
        id=agent.id,
        name=agent.name,
        email=agent.email,
        timezone=agent.timezone,
        link=agent.link,
        booking_url=settings.booking_url(agent.link),
        role=agent.role,
        active=agent.active,
        calendar=None
        if connection is None
        else CalendarOut(
            provider=connection.provider,
            status=connection.status,
            account_email=connection.account_email,
            last_error=connection.last_error,
        ),
    )


def _availability_out(availability: Availability) -> AvailabilityOut:
    return AvailabilityOut(
        timezone=availability.timezone,
        weekly=availability.weekly,
        min_notice_minutes=availability.min_notice_minutes,
        horizon_days=availability.horizon_days,
        buffer_before_minutes=availability.buffer_before_minutes,
        buffer_after_minutes=availability.buffer_after_minutes,
        slot_interval_minutes=availability.slot_interval_minutes,
        max_per_day=availability.max_per_day,
        overrides=availability.overrides,
    )


def _meeting_type_out(meeting_type: MeetingType) -> MeetingTypeOut:
    return MeetingTypeOut(
        id=meeting_type.id,
        agent_id=meeting_type.agent_id,
        name=meeting_type.name,
        duration_minutes=meeting_type.duration_minutes,
        description=meeting_type.description,
        colour=meeting_type.colour,
        active=meeting_type.active,
        position=meeting_type.position,
    )


def _booking_out(booking: Booking, settings: Settings) -> AdminBookingOut:
    return AdminBookingOut(
        id=booking.id,
        status=booking.status,
        start=booking.start_at,
        end=booking.end_at,
        timezone=booking.invitee_timezone,
        agent=AgentRef(id=booking.agent.id, name=booking.agent.name),
        meeting_type=MeetingTypeRef(
            id=booking.meeting_type.id,
            name=booking.meeting_type.name,
            duration_minutes=booking.meeting_type.duration_minutes,
        ),
        contact_id=booking.contact_id,
        first_name=booking.first_name,
        last_name=booking.last_name,
        company_name=booking.company_name,
        email=booking.email,
        description=booking.description,
        cancel_reason=booking.cancel_reason,
        cancelled_at=booking.cancelled_at,
        created_at=booking.created_at,
        session_id=booking.session_id,
        visitor_id=booking.visitor_id,
        manage_url=settings.manage_url(booking.manage_token),
    )


def _contact_out(profile: ContactProfile) -> ContactOut:
    return ContactOut(
        id=profile.id,
        email=profile.email,
        first_name=profile.first_name,
        last_name=profile.last_name,
        company=profile.company,
        created_at=profile.created_at,
        visitor_ids=profile.visitor_ids,
        bookings=[
            BookedTimeOut(
                booking_id=b.booking_id,
                start=b.start,
                end=b.end,
                status=b.status,
                invitee_timezone=b.invitee_timezone,
                meeting_type=MeetingTypeRef(
                    id=b.meeting_type_id, name=b.meeting_type_name, duration_minutes=b.duration_minutes
                ),
                agent=AgentRef(id=b.agent_id, name=b.agent_name),
                cancelled_at=b.cancelled_at,
            )
            for b in profile.bookings
        ],
        timeline=[
            TimelineEntryOut(
                id=e.id,
                name=e.name,
                attributes=e.attributes,
                occurred_at=e.occurred_at,
                agent=None if e.agent_id is None else AgentRef(id=e.agent_id, name=e.agent_name or ""),
                meeting_type_id=e.meeting_type_id,
                meeting_type_name=e.meeting_type_name,
                booking_id=e.booking_id,
                session_id=e.session_id,
                visitor_id=e.visitor_id,
                chosen_date=e.chosen_date,
                chosen_start=e.chosen_start,
            )
            for e in profile.timeline
        ],
    )


def _funnel_out(result: FunnelResult) -> FunnelOut:
    return FunnelOut(
        steps=[
            FunnelStepOut(
                name=s.name,
                sessions=s.sessions,
                conversion=s.conversion,
                drop_off=s.drop_off,
                drop_off_rate=s.drop_off_rate,
            )
            for s in result.steps
        ],
        trend=[TrendPointOut(period=p.period, sessions=dict(p.sessions)) for p in result.trend],
        median_seconds_between_steps=[
            StepDurationOut(
                from_step=d.from_step, to_step=d.to_step, median_seconds=d.median_seconds, sessions=d.sessions
            )
            for d in result.median_seconds_between_steps
        ],
        filters=FunnelFiltersOut(
            from_=result.filters.start,
            to=result.filters.end,
            agent_id=result.filters.agent_id,
            meeting_type_id=result.filters.meeting_type_id,
            granularity=result.filters.granularity,
        ),
    )


@router.post(
    "/agents",
    status_code=status.HTTP_201_CREATED,
    response_model=AgentOut,
    responses={409: {"description": "An agent with this email exists"}},
)
def create_agent(body: AgentIn, actor: AdminDep, session: SessionDep, settings: SettingsDep) -> AgentOut:
    """Create an agent with default hours (Mon–Fri 09:00–17:00), the predefined meeting types and a link."""
    require_manager(actor, "add agents")
    agent = agents.create_agent(session, name=body.name, email=body.email, timezone=body.timezone, role=body.role)
    return _agent_out(agent, settings)


@router.get("/agents", response_model=list[AgentOut])
def list_agents(actor: AdminDep, session: SessionDep, settings: SettingsDep) -> list[AgentOut]:
    """All agents with their booking URL and calendar connection status (an agent's token: only themselves)."""
    return [_agent_out(agent, settings) for agent in scoped_agents.visible_agents(session, actor=actor)]


@router.put("/agents/{agent_id}/availability", response_model=AvailabilityOut, responses=NOT_FOUND)
def put_availability(agent_id: int, body: AvailabilityIn, actor: AdminDep, session: SessionDep) -> AvailabilityOut:
    """Replace the agent's availability; answers the stored value (windows sorted, overrides by date)."""
    availability = scoped_agents.update_availability(
        session, actor=actor, agent_id=agent_id, data=AvailabilityInput(**body.model_dump())
    )
    return _availability_out(availability)


@router.get("/agents/{agent_id}/meeting-types", response_model=list[MeetingTypeOut], responses=NOT_FOUND)
def list_meeting_types(agent_id: int, actor: AdminDep, session: SessionDep) -> list[MeetingTypeOut]:
    """The agent's meeting types in order, inactive ones included."""
    return [_meeting_type_out(m) for m in scoped_agents.list_meeting_types(session, actor=actor, agent_id=agent_id)]


@router.post(
    "/agents/{agent_id}/meeting-types",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingTypeOut,
    responses=NOT_FOUND,
)
def create_meeting_type(agent_id: int, body: MeetingTypeIn, actor: AdminDep, session: SessionDep) -> MeetingTypeOut:
    """Add a meeting type at the end of the agent's list."""
    require_can_manage_agent(actor, agent_id)
    meeting_type = agents.create_meeting_type(
        session,
        agent_id=agent_id,
        name=body.name,
        duration_minutes=body.duration_minutes,
        description=body.description,
        colour=body.colour,
        active=body.active,
    )
    return _meeting_type_out(meeting_type)


@router.patch("/meeting-types/{meeting_type_id}", response_model=MeetingTypeOut, responses=NOT_FOUND)
def update_meeting_type(
    meeting_type_id: int, body: MeetingTypePatch, actor: AdminDep, session: SessionDep
) -> MeetingTypeOut:
    """Change the fields sent, and only those. Another agent's type answers 404, as an unknown one."""
    changes = cast(MeetingTypeChanges, body.model_dump(exclude_unset=True))
    return _meeting_type_out(
        agents.update_meeting_type(
            session, meeting_type_id=meeting_type_id, changes=changes, agent_id=_owner_filter(actor)
        )
    )


@router.delete("/meeting-types/{meeting_type_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_meeting_type(meeting_type_id: int, actor: AdminDep, session: SessionDep, now: NowDep) -> Response:
    """Delete a meeting type: gone from the widget and lists; its bookings keep it."""
    agents.delete_meeting_type(session, meeting_type_id=meeting_type_id, now=now, agent_id=_owner_filter(actor))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/agents/{agent_id}/link/rotate", response_model=AgentOut, responses=NOT_FOUND)
def rotate_link(agent_id: int, actor: AdminDep, session: SessionDep, settings: SettingsDep) -> AgentOut:
    """Give the agent a new booking link; the old one answers 404 from now on."""
    return _agent_out(scoped_agents.rotate_link(session, actor=actor, agent_id=agent_id), settings)


@router.delete(
    "/agents/{agent_id}/calendar",
    response_model=AgentOut,
    responses={404: {"description": "Unknown agent, or no calendar connected"}},
)
def disconnect_calendar(agent_id: int, actor: AdminDep, session: SessionDep, settings: SettingsDep) -> AgentOut:
    """Disconnect the agent's calendar: the grant is revoked at Google, tokens are deleted, status `disconnected`."""
    agent = scoped_agents.get_agent(session, actor=actor, agent_id=agent_id)
    if google_calendar.disconnect(session, agent_id=agent.id, settings=settings) is None:
        raise CalendarNotConnected()
    session.refresh(agent)
    return _agent_out(agent, settings)


@router.get("/bookings", response_model=BookingPageOut, responses=NOT_FOUND)
def get_bookings(
    actor: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    agent_id: int | None = None,
    from_: Annotated[str | None, Query(alias="from", description="ISO 8601 with offset")] = None,
    to: Annotated[str | None, Query(description="ISO 8601 with offset")] = None,
    status_: Annotated[str | None, Query(alias="status", description="confirmed | cancelled")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BookingPageOut:
    """Bookings overlapping [from, to), by start time, a page at a time (an agent's token: their own)."""
    if not is_manager(actor):
        agent_id = actor.id if agent_id is None else agent_id
        require_can_manage_agent(actor, agent_id)
    page = list_bookings(
        session,
        agent_id=agent_id,
        start=_moment(from_, "from"),
        end=_moment(to, "to"),
        status=status_,
        limit=limit,
        offset=offset,
    )
    return BookingPageOut(
        items=[_booking_out(b, settings) for b in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/contacts", response_model=list[ContactOut])
def get_contacts(
    actor: AdminDep,
    session: SessionDep,
    email: Annotated[str | None, Query(max_length=320, description="The whole address, any case")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of email, name or company")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ContactOut]:
    """Contacts with their booked times and event timeline (newest first).

    An agent's token sees the contacts who used their widget or booked them, and only their part.
    """
    if is_manager(actor):
        contacts = search_contacts(session, query=q, email=email, limit=limit)
        return [_contact_out(contact_profile(session, contact_id=c.id)) for c in contacts]
    profiles: list[ContactOut] = []
    for contact in search_contacts(session, query=q, email=email, limit=SEARCH_LIMIT_MAX):
        try:
            profiles.append(_contact_out(scoped_contacts.contact_profile(session, actor=actor, contact_id=contact.id)))
        except NotFound:
            continue
        if len(profiles) == limit:
            break
    return profiles


@router.get("/funnel", response_model=FunnelOut, responses=NOT_FOUND)
def get_funnel(
    actor: AdminDep,
    session: SessionDep,
    from_: Annotated[str | None, Query(alias="from", description="ISO 8601 with offset")] = None,
    to: Annotated[str | None, Query(description="ISO 8601 with offset")] = None,
    agent_id: int | None = None,
    meeting_type_id: int | None = None,
    granularity: Annotated[str, Query(description="day | week")] = "day",
) -> FunnelOut:
    """The four-step booking funnel: distinct sessions per step, conversion, drop-off, trend, medians."""
    result = scoped_funnel.funnel(
        session,
        actor=actor,
        start=_moment(from_, "from"),
        end=_moment(to, "to"),
        agent_id=agent_id,
        meeting_type_id=meeting_type_id,
        granularity=cast(Granularity, granularity),
    )
    return _funnel_out(result)


def _owner_filter(actor: AdminDep) -> int | None:
    """The agent whose meeting types the actor may touch by id (None: any); others look missing (404)."""
    return None if is_manager(actor) else actor.id


class ApiTokenOut(BaseModel):
    agent_id: int
    token: str = Field(description="Shown once: only its SHA-256 is stored. Use as `Authorization: Bearer <token>`")


@router.post(
    "/agents/{agent_id}/api-token", status_code=status.HTTP_201_CREATED, response_model=ApiTokenOut, responses=NOT_FOUND
)
def issue_api_token(agent_id: int, actor: AdminDep, session: SessionDep) -> ApiTokenOut:
    """Managers only: a personal API token for the agent (their scope); replaces any previous one."""
    require_manager(actor, "issue API tokens")
    return ApiTokenOut(agent_id=agent_id, token=apitokens.issue_token(session, agent_id=agent_id))


@router.delete("/agents/{agent_id}/api-token", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def revoke_api_token(agent_id: int, actor: AdminDep, session: SessionDep) -> Response:
    """A manager, or the agent themselves, revokes the agent's API token (it stops working at once)."""
    require_can_manage_agent(actor, agent_id)
    apitokens.revoke_token(session, agent_id=agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""The admin API (SPEC §7): manager scope, `Authorization: Bearer <MEETINGS_ADMIN_TOKEN>`.

One way in: the bearer token becomes an actor (`AdminDep`), and every endpoint hands it to a scoped
service of `shared.accounts.scoped` (the ones the dashboard calls), which refuses (403, or 404 where
another agent's data must look missing) or filters. The endpoints only shape the answer, read from
the returned objects. The Google connect/callback endpoints live in routes/oauth.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from pydantic import BaseModel, Field

from shared.accounts.scoped import agents as scoped_agents
from shared.accounts.scoped import apitokens as scoped_apitokens
from shared.accounts.scoped import bookings as scoped_bookings
from shared.accounts.scoped import calendars as scoped_calendars
from shared.accounts.scoped import contacts as scoped_contacts
from shared.accounts.scoped import funnel as scoped_funnel
from shared.accounts.scoped import teams as scoped_teams
from shared.agents.errors import CalendarNotConnected
from shared.agents.schemas import AgentChanges, AvailabilityInput, MeetingTypeChanges
from shared.errors import InvalidInput
from shared.funnel import summary as funnel_summary
from shared.funnel.schemas import Granularity
from shared.reports.bookings import PAGE_LIMIT_MAX
from shared.teams.schemas import TeamChanges
from widget_api.admin_schemas import (
    AdminBookingOut,
    AgentIn,
    AgentOut,
    AgentPatch,
    AvailabilityIn,
    AvailabilityOut,
    BookingPageOut,
    CancelBookingIn,
    ContactOut,
    FunnelOut,
    MeetingTypeIn,
    MeetingTypeOut,
    MeetingTypePatch,
    TeamIn,
    TeamMeetingTypeOut,
    TeamOut,
    TeamPatch,
    meeting_type_out,
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


@router.post(
    "/agents",
    status_code=status.HTTP_201_CREATED,
    response_model=AgentOut,
    responses={409: {"description": "An agent with this email exists"}},
)
def create_agent(body: AgentIn, actor: AdminDep, session: SessionDep, settings: SettingsDep) -> AgentOut:
    """Create an agent with default hours (Mon–Fri 09:00–17:00), the predefined meeting types and a link."""
    agent = scoped_agents.create_agent(
        session,
        actor=actor,
        name=body.name,
        email=body.email,
        timezone=body.timezone,
        role=body.role,
        password=None,
        locale=body.locale,
    )
    return AgentOut.of(agent, settings)


@router.patch("/agents/{agent_id}", response_model=AgentOut, responses=NOT_FOUND)
def update_agent(
    agent_id: int, body: AgentPatch, actor: AdminDep, session: SessionDep, settings: SettingsDep
) -> AgentOut:
    """Change the fields sent (name, locale: the language of the agent's emails), and only those."""
    changes = cast(AgentChanges, body.model_dump(exclude_unset=True))
    agent = scoped_agents.update_agent(session, actor=actor, agent_id=agent_id, changes=changes)
    return AgentOut.of(agent, settings)


@router.get("/agents", response_model=list[AgentOut])
def list_agents(actor: AdminDep, session: SessionDep, settings: SettingsDep) -> list[AgentOut]:
    """All agents with their booking URL and calendar connection status (an agent's token: only themselves)."""
    return [AgentOut.of(agent, settings) for agent in scoped_agents.visible_agents(session, actor=actor)]


@router.put("/agents/{agent_id}/availability", response_model=AvailabilityOut, responses=NOT_FOUND)
def put_availability(agent_id: int, body: AvailabilityIn, actor: AdminDep, session: SessionDep) -> AvailabilityOut:
    """Replace the agent's availability; answers the stored value (windows sorted, overrides by date)."""
    availability = scoped_agents.update_availability(
        session, actor=actor, agent_id=agent_id, data=AvailabilityInput(**body.model_dump())
    )
    return AvailabilityOut.of(availability)


@router.get("/agents/{agent_id}/meeting-types", response_model=list[MeetingTypeOut], responses=NOT_FOUND)
def list_meeting_types(agent_id: int, actor: AdminDep, session: SessionDep) -> list[MeetingTypeOut]:
    """The agent's meeting types in order, inactive ones included."""
    return [MeetingTypeOut.of(m) for m in scoped_agents.list_meeting_types(session, actor=actor, agent_id=agent_id)]


@router.post(
    "/agents/{agent_id}/meeting-types",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingTypeOut,
    responses=NOT_FOUND,
)
def create_meeting_type(agent_id: int, body: MeetingTypeIn, actor: AdminDep, session: SessionDep) -> MeetingTypeOut:
    """Add a meeting type at the end of the agent's list."""
    meeting_type = scoped_agents.create_meeting_type(
        session,
        actor=actor,
        agent_id=agent_id,
        name=body.name,
        duration_minutes=body.duration_minutes,
        description=body.description,
        colour=body.colour,
        active=body.active,
        min_notice_minutes=body.min_notice_minutes,
        buffer_before_minutes=body.buffer_before_minutes,
        buffer_after_minutes=body.buffer_after_minutes,
        max_per_day=body.max_per_day,
        reminder_minutes=body.reminder_minutes,
        location=body.location.model_dump() if body.location is not None else None,
    )
    return MeetingTypeOut.of(meeting_type)


@router.patch(
    "/meeting-types/{meeting_type_id}", response_model=MeetingTypeOut | TeamMeetingTypeOut, responses=NOT_FOUND
)
def update_meeting_type(
    meeting_type_id: int, body: MeetingTypePatch, actor: AdminDep, session: SessionDep
) -> MeetingTypeOut:
    """Change the fields sent, and only those. Another agent's type answers 404, as an unknown one; a
    team's type (managers only) answers with its `team_id`."""
    changes = cast(MeetingTypeChanges, body.model_dump(exclude_unset=True))
    meeting_type = scoped_agents.update_meeting_type(
        session, actor=actor, meeting_type_id=meeting_type_id, changes=changes
    )
    return meeting_type_out(meeting_type)


@router.delete("/meeting-types/{meeting_type_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_meeting_type(meeting_type_id: int, actor: AdminDep, session: SessionDep, now: NowDep) -> Response:
    """Delete a meeting type: gone from the widget and lists; its bookings keep it."""
    scoped_agents.delete_meeting_type(session, actor=actor, meeting_type_id=meeting_type_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/agents/{agent_id}/link/rotate", response_model=AgentOut, responses=NOT_FOUND)
def rotate_link(agent_id: int, actor: AdminDep, session: SessionDep, settings: SettingsDep) -> AgentOut:
    """Give the agent a new booking link; the old one answers 404 from now on."""
    return AgentOut.of(scoped_agents.rotate_link(session, actor=actor, agent_id=agent_id), settings)


@router.delete(
    "/agents/{agent_id}/calendar",
    response_model=AgentOut,
    responses={404: {"description": "Unknown agent, or no calendar connected"}},
)
def disconnect_calendar(agent_id: int, actor: AdminDep, session: SessionDep, settings: SettingsDep) -> AgentOut:
    """Disconnect the agent's calendar: the grant is revoked at Google, tokens are deleted, status `disconnected`."""
    agent = scoped_agents.get_agent(session, actor=actor, agent_id=agent_id)
    if scoped_calendars.disconnect_google(session, actor=actor, agent_id=agent.id, settings=settings) is None:
        raise CalendarNotConnected()
    session.refresh(agent)
    return AgentOut.of(agent, settings)


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
    page = scoped_bookings.booking_page(
        session,
        actor=actor,
        agent_id=agent_id,
        start=_moment(from_, "from"),
        end=_moment(to, "to"),
        status=status_,
        limit=limit,
        offset=offset,
    )
    return BookingPageOut.of(page, settings)


@router.post("/bookings/{booking_id}/cancel", response_model=AdminBookingOut, responses=NOT_FOUND)
def cancel_booking(
    booking_id: int,
    actor: AdminDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    body: Annotated[CancelBookingIn | None, Body()] = None,
) -> AdminBookingOut:
    """Cancel a booking as the agent or a manager (an agent's token: only their own), at any time: the
    change cut-off binds the invitee's manage link only. The invitee and the agent are told by email
    and the calendar event is removed; cancelling a cancelled booking changes nothing."""
    booking = scoped_bookings.cancel_booking(
        session, actor=actor, booking_id=booking_id, reason=body.reason if body else None, now=now
    )
    return AdminBookingOut.of(booking, settings)


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
    profiles = scoped_contacts.contact_profiles(session, actor=actor, query=q, email=email, limit=limit)
    return [ContactOut.of(profile) for profile in profiles]


@router.get("/funnel", response_model=FunnelOut, responses=NOT_FOUND)
def get_funnel(
    actor: AdminDep,
    session: SessionDep,
    from_: Annotated[str | None, Query(alias="from", description="ISO 8601 with offset")] = None,
    to: Annotated[str | None, Query(description="ISO 8601 with offset")] = None,
    agent_id: int | None = None,
    meeting_type_id: int | None = None,
    granularity: Annotated[str, Query(description="day | week")] = "day",
    team_id: Annotated[int | None, Query(description="Sessions of this team's link (SPEC §15)")] = None,
    *,
    request: Request,
    now: NowDep,
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
        team_id=team_id,
        # The per-day summary of settled days, in a transaction of its own (shared.funnel.summary).
        refresh=lambda: funnel_summary.refresh_in_own_transaction(request.app.state.sessionmaker, now=now),
    )
    return FunnelOut.of(result)


TEAM_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Unknown or deleted team"}}


@router.post("/teams", status_code=status.HTTP_201_CREATED, response_model=TeamOut)
def create_team(body: TeamIn, actor: AdminDep, session: SessionDep, settings: SettingsDep, now: NowDep) -> TeamOut:
    """Managers only: a team of agents with one booking link (SPEC §15); no meeting types until added."""
    team = scoped_teams.create_team(
        session, actor=actor, name=body.name, mode=body.mode, member_ids=body.member_ids, now=now
    )
    return TeamOut.of(team, settings)


@router.get("/teams", response_model=list[TeamOut])
def list_teams(actor: AdminDep, session: SessionDep, settings: SettingsDep) -> list[TeamOut]:
    """Managers only: every team with its members (and whether each must reconnect Google)."""
    return [TeamOut.of(team, settings) for team in scoped_teams.list_teams(session, actor=actor)]


@router.patch("/teams/{team_id}", response_model=TeamOut, responses=TEAM_NOT_FOUND)
def update_team(
    team_id: int, body: TeamPatch, actor: AdminDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> TeamOut:
    """Rename, change the mode, or replace the members; only the fields sent change."""
    changes = cast(TeamChanges, body.model_dump(exclude_unset=True))
    team = scoped_teams.update_team(session, actor=actor, team_id=team_id, changes=changes, now=now)
    return TeamOut.of(team, settings)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT, responses=TEAM_NOT_FOUND)
def delete_team(team_id: int, actor: AdminDep, session: SessionDep, now: NowDep) -> Response:
    """Delete a team: its link answers 404 at once; bookings made through it stay."""
    scoped_teams.delete_team(session, actor=actor, team_id=team_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/teams/{team_id}/link/rotate", response_model=TeamOut, responses=TEAM_NOT_FOUND)
def rotate_team_link(team_id: int, actor: AdminDep, session: SessionDep, settings: SettingsDep) -> TeamOut:
    """Give the team a new booking link; the old one answers 404 everywhere from now on."""
    return TeamOut.of(scoped_teams.rotate_link(session, actor=actor, team_id=team_id), settings)


@router.get("/teams/{team_id}/meeting-types", response_model=list[TeamMeetingTypeOut], responses=TEAM_NOT_FOUND)
def list_team_meeting_types(team_id: int, actor: AdminDep, session: SessionDep) -> list[TeamMeetingTypeOut]:
    """The team's meeting types in order, inactive ones included (edit them at /meeting-types/{id})."""
    types = scoped_teams.list_meeting_types(session, actor=actor, team_id=team_id)
    return [TeamMeetingTypeOut.of(m) for m in types]


@router.post(
    "/teams/{team_id}/meeting-types",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamMeetingTypeOut,
    responses=TEAM_NOT_FOUND,
)
def create_team_meeting_type(
    team_id: int, body: MeetingTypeIn, actor: AdminDep, session: SessionDep
) -> TeamMeetingTypeOut:
    """Add a meeting type at the end of the team's list: the fields and rules of an agent's type."""
    meeting_type = scoped_teams.create_meeting_type(
        session,
        actor=actor,
        team_id=team_id,
        name=body.name,
        duration_minutes=body.duration_minutes,
        description=body.description,
        colour=body.colour,
        active=body.active,
        min_notice_minutes=body.min_notice_minutes,
        buffer_before_minutes=body.buffer_before_minutes,
        buffer_after_minutes=body.buffer_after_minutes,
        max_per_day=body.max_per_day,
        reminder_minutes=body.reminder_minutes,
        location=body.location.model_dump() if body.location is not None else None,
    )
    return TeamMeetingTypeOut.of(meeting_type)


class ApiTokenOut(BaseModel):
    agent_id: int
    token: str = Field(description="Shown once: only its SHA-256 is stored. Use as `Authorization: Bearer <token>`")


@router.post(
    "/agents/{agent_id}/api-token", status_code=status.HTTP_201_CREATED, response_model=ApiTokenOut, responses=NOT_FOUND
)
def issue_api_token(agent_id: int, actor: AdminDep, session: SessionDep) -> ApiTokenOut:
    """Managers only: a personal API token for the agent (their scope); replaces any previous one."""
    token = scoped_apitokens.issue_token(session, actor=actor, agent_id=agent_id)
    return ApiTokenOut(agent_id=agent_id, token=token)


@router.delete("/agents/{agent_id}/api-token", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def revoke_api_token(agent_id: int, actor: AdminDep, session: SessionDep) -> Response:
    """A manager, or the agent themselves, revokes the agent's API token (it stops working at once)."""
    scoped_apitokens.revoke_token(session, actor=actor, agent_id=agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""HTTP shapes of the admin API (SPEC §7). Field names are contract.

Inputs check only JSON types here; ranges and formats are checked by the services in shared/, so the
admin API and the dashboard refuse the same values with the same reasons.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_serializer,
    model_validator,
)

from shared.agents.schemas import DEFAULT_COLOUR
from shared.models.agent import AVAILABILITY_DEFAULTS
from shared.models.meeting_type import DEFAULT_REMINDER_MINUTES
from widget_api.schemas import BookingUrl, ManageUrl, MeetingTypeRef, Out, attribute


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: EmailStr
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="IANA time zone, e.g. Europe/Warsaw"
    )
    role: Literal["agent", "manager"] = "agent"
    locale: str = Field(default="en", description="Language of the agent's emails: en, pl, de, fr or es")


class AgentPatch(BaseModel):
    """Only the fields sent are changed; null is refused like any other bad value."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    locale: str | None = Field(default=None, description="en, pl, de, fr or es")


class CalendarOut(Out):
    provider: str
    status: str = Field(description="connected | needs_reconnect | disconnected")
    account_email: str | None
    last_error: str | None


class AgentOut(Out):
    id: int
    name: str
    email: str
    timezone: str
    link: str
    booking_url: BookingUrl = Field(validation_alias=attribute("link"))
    role: str
    active: bool
    locale: str
    calendar: CalendarOut | None = Field(validation_alias=attribute("calendar_connection"))


class AvailabilityIn(BaseModel):
    """The whole availability; omitted fields take the defaults of a new agent."""

    model_config = ConfigDict(extra="forbid")

    timezone: str
    weekly: dict[str, Any] = Field(description='{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}')
    min_notice_minutes: StrictInt = AVAILABILITY_DEFAULTS.min_notice_minutes
    horizon_days: StrictInt = AVAILABILITY_DEFAULTS.horizon_days
    buffer_before_minutes: StrictInt = AVAILABILITY_DEFAULTS.buffer_before_minutes
    buffer_after_minutes: StrictInt = AVAILABILITY_DEFAULTS.buffer_after_minutes
    slot_interval_minutes: StrictInt = AVAILABILITY_DEFAULTS.slot_interval_minutes
    max_per_day: StrictInt | None = AVAILABILITY_DEFAULTS.max_per_day
    overrides: list[Any] = Field(
        default_factory=list, description='[{"date": "2026-12-24", "windows": []}] — empty windows: day off'
    )
    change_cutoff_minutes: StrictInt = Field(
        default=0, description="Cancel and reschedule by the invitee are refused this many minutes before the start"
    )


class AvailabilityOut(Out):
    timezone: str
    weekly: dict[str, list[list[str]]]
    min_notice_minutes: int
    horizon_days: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int
    max_per_day: int | None
    overrides: list[dict[str, Any]]
    change_cutoff_minutes: int


class LocationIn(BaseModel):
    """Where the call happens (SPEC §14): `value` is the agent's phone (or null: the agent calls the
    invitee), the https URL of a `link`, the address of `in_person`; null for google_meet and none."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="google_meet, phone, link, in_person or none")
    value: str | None = None


class LocationOut(Out):
    kind: str
    value: str | None


class MeetingTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    duration_minutes: StrictInt = Field(description="5–480")
    description: str = ""
    colour: str = Field(default=DEFAULT_COLOUR, description="#rrggbb")
    active: StrictBool = True
    min_notice_minutes: StrictInt | None = Field(default=None, description="null: the agent's setting")
    buffer_before_minutes: StrictInt | None = Field(default=None, description="null: the agent's setting")
    buffer_after_minutes: StrictInt | None = Field(default=None, description="null: the agent's setting")
    max_per_day: StrictInt | None = Field(
        default=None, description="Bookings of this type a day (null: no limit of its own; the agent's applies too)"
    )
    # Any: the service checks the list and names what is wrong (shared.agents.validation).
    reminder_minutes: Any = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_MINUTES),
        description="Minutes before the start at which the invitee is reminded: at most 5, each 0–43200, no repeats",
    )
    location: LocationIn | None = Field(default=None, description="Default: {kind: none}")


class MeetingTypePatch(BaseModel):
    """Only the fields sent are changed; null is refused like any other bad value, except for the
    four rules, where null means "use the agent's setting"."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    duration_minutes: StrictInt | None = None
    description: str | None = None
    colour: str | None = None
    active: StrictBool | None = None
    min_notice_minutes: StrictInt | None = Field(default=None, description="null: the agent's setting")
    buffer_before_minutes: StrictInt | None = Field(default=None, description="null: the agent's setting")
    buffer_after_minutes: StrictInt | None = Field(default=None, description="null: the agent's setting")
    max_per_day: StrictInt | None = Field(
        default=None, description="Bookings of this type a day (null: no limit of its own; the agent's applies too)"
    )
    reminder_minutes: Any = None
    location: LocationIn | None = None


class MeetingTypeOut(Out):
    id: int
    agent_id: int | None = Field(description="The agent the type belongs to; null for a team's type")
    name: str
    duration_minutes: int
    description: str
    colour: str
    active: bool
    position: int
    min_notice_minutes: int | None
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    max_per_day: int | None
    reminder_minutes: list[int]
    location: LocationOut


class TeamMeetingTypeOut(MeetingTypeOut):
    """A team's meeting type (SPEC §15): the same shape, `agent_id` null and `team_id` added."""

    team_id: int


def meeting_type_out(meeting_type: Any) -> MeetingTypeOut:
    """The answer for an agent's type, or a team's (with team_id)."""
    if getattr(meeting_type, "team_id", None) is not None:
        return TeamMeetingTypeOut.of(meeting_type)
    return MeetingTypeOut.of(meeting_type)


class AgentRef(Out):
    id: int
    name: str


class AdminBookingOut(Out):
    id: int
    status: str
    start: datetime = Field(validation_alias=attribute("start_at"))
    end: datetime = Field(validation_alias=attribute("end_at"))
    timezone: str = Field(validation_alias=attribute("invitee_timezone"), description="The invitee's time zone")
    agent: AgentRef
    meeting_type: MeetingTypeRef
    contact_id: int
    first_name: str
    last_name: str
    company_name: str
    email: str
    phone: str | None
    description: str
    cancel_reason: str | None
    cancelled_at: datetime | None
    created_at: datetime
    session_id: str | None
    visitor_id: str | None
    locale: str
    manage_url: ManageUrl = Field(validation_alias=attribute("manage_token"))


class BookingPageOut(Out):
    items: list[AdminBookingOut]
    total: int
    limit: int
    offset: int


def _flat_row(source: Any) -> dict[str, Any]:
    """The fields of a frozen dataclass of `shared.contacts.queries` (a dict passes as it is)."""
    if isinstance(source, dict):
        return source
    return {field.name: getattr(source, field.name) for field in dataclasses.fields(source)}


class BookedTimeOut(Out):
    booking_id: int
    start: datetime
    end: datetime
    status: str
    invitee_timezone: str
    meeting_type: MeetingTypeRef
    agent: AgentRef
    cancelled_at: datetime | None
    phone: str | None = None
    location_kind: str = "none"

    @model_validator(mode="before")
    @classmethod
    def _nest_references(cls, source: Any) -> Any:
        # A BookedTime row is flat (agent_id, agent_name, meeting_type_id, …): the answer nests them.
        row = _flat_row(source)
        if "agent" in row:
            return row
        meeting_type = {"id": row["meeting_type_id"], "name": row["meeting_type_name"]}
        return {
            **row,
            "meeting_type": {**meeting_type, "duration_minutes": row["duration_minutes"]},
            "agent": {"id": row["agent_id"], "name": row["agent_name"]},
        }


class TimelineEntryOut(Out):
    id: int
    name: str
    attributes: dict[str, Any]
    occurred_at: datetime
    agent: AgentRef | None
    meeting_type_id: int | None
    meeting_type_name: str | None
    booking_id: int | None
    session_id: str | None
    visitor_id: str | None
    chosen_date: str | None
    chosen_start: datetime | None

    @model_validator(mode="before")
    @classmethod
    def _nest_agent(cls, source: Any) -> Any:
        # A TimelineEntry row is flat (agent_id, agent_name): the answer nests them, or null.
        row = _flat_row(source)
        if "agent" in row:
            return row
        agent_id = row["agent_id"]
        return {**row, "agent": None if agent_id is None else {"id": agent_id, "name": row["agent_name"] or ""}}


class ContactOut(Out):
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    created_at: datetime
    visitor_ids: list[str]
    bookings: list[BookedTimeOut]
    timeline: list[TimelineEntryOut]


class FunnelStepOut(Out):
    name: str
    sessions: int
    conversion: float
    drop_off: int
    drop_off_rate: float


class TrendPointOut(Out):
    period: date = Field(description="UTC day, or the Monday of the ISO week")
    sessions: dict[str, int]


class StepDurationOut(Out):
    from_step: str
    to_step: str
    median_seconds: float | None
    sessions: int


class FunnelFiltersOut(Out):
    from_: datetime | None = Field(validation_alias=attribute("start"), serialization_alias="from")
    to: datetime | None = Field(validation_alias=attribute("end"))
    agent_id: int | None
    meeting_type_id: int | None
    granularity: str
    team_id: int | None = Field(default=None, description="Shown only when the funnel is filtered by team")

    @model_serializer(mode="wrap")
    def _team_only_when_filtered(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("team_id") is None:
            data.pop("team_id", None)
        return data


class FunnelOut(Out):
    steps: list[FunnelStepOut]
    trend: list[TrendPointOut]
    median_seconds_between_steps: list[StepDurationOut]
    filters: FunnelFiltersOut


class CancelBookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None, description="Sent to the invitee"
    )


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    mode: str = Field(description="round_robin (any free member takes the call) or collective (all members together)")
    member_ids: list[StrictInt] = Field(description="Agent ids, in the team's order; at least one, each active, once")


class TeamPatch(BaseModel):
    """Only the fields sent are changed; `member_ids` replaces the whole list (members who leave keep
    their bookings)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    mode: str | None = None
    member_ids: list[StrictInt] | None = None


class TeamMemberOut(Out):
    id: int
    name: str
    calendar_status: str | None = Field(description="connected | needs_reconnect | disconnected; null: none")
    needs_reconnect: bool = Field(description="The member's Google grant was revoked: only local bookings count")


class TeamOut(Out):
    id: int
    name: str
    mode: str
    members: list[TeamMemberOut] = Field(validation_alias=attribute("agents"))
    link: str
    booking_url: BookingUrl = Field(validation_alias=attribute("link"))
    created_at: datetime

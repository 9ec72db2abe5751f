"""HTTP shapes of the admin API (SPEC §7). Field names are contract.

Inputs check only JSON types here; ranges and formats are checked by the services in shared/, so the
admin API and the dashboard refuse the same values with the same reasons.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, StrictInt, StringConstraints

from shared.agents.schemas import DEFAULT_COLOUR


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: EmailStr
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="IANA time zone, e.g. Europe/Warsaw"
    )
    role: Literal["agent", "manager"] = "agent"


class CalendarOut(BaseModel):
    provider: str
    status: str = Field(description="connected | needs_reconnect | disconnected")
    account_email: str | None
    last_error: str | None


class AgentOut(BaseModel):
    id: int
    name: str
    email: str
    timezone: str
    link: str
    booking_url: str
    role: str
    active: bool
    calendar: CalendarOut | None


class AvailabilityIn(BaseModel):
    """The whole availability; omitted fields take the defaults of a new agent."""

    model_config = ConfigDict(extra="forbid")

    timezone: str
    weekly: dict[str, Any] = Field(description='{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}')
    min_notice_minutes: StrictInt = 240
    horizon_days: StrictInt = 60
    buffer_before_minutes: StrictInt = 0
    buffer_after_minutes: StrictInt = 0
    slot_interval_minutes: StrictInt = 30
    max_per_day: StrictInt | None = None
    overrides: list[Any] = Field(
        default_factory=list, description='[{"date": "2026-12-24", "windows": []}] — empty windows: day off'
    )


class AvailabilityOut(BaseModel):
    timezone: str
    weekly: dict[str, list[list[str]]]
    min_notice_minutes: int
    horizon_days: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int
    max_per_day: int | None
    overrides: list[dict[str, Any]]


class MeetingTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    duration_minutes: StrictInt = Field(description="5–480")
    description: str = ""
    colour: str = Field(default=DEFAULT_COLOUR, description="#rrggbb")
    active: StrictBool = True


class MeetingTypePatch(BaseModel):
    """Only the fields sent are changed; null is refused like any other bad value."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    duration_minutes: StrictInt | None = None
    description: str | None = None
    colour: str | None = None
    active: StrictBool | None = None


class MeetingTypeOut(BaseModel):
    id: int
    agent_id: int
    name: str
    duration_minutes: int
    description: str
    colour: str
    active: bool
    position: int


class AgentRef(BaseModel):
    id: int
    name: str


class MeetingTypeRef(BaseModel):
    id: int
    name: str
    duration_minutes: int


class AdminBookingOut(BaseModel):
    id: int
    status: str
    start: datetime
    end: datetime
    timezone: str = Field(description="The invitee's time zone")
    agent: AgentRef
    meeting_type: MeetingTypeRef
    contact_id: int
    first_name: str
    last_name: str
    company_name: str
    email: str
    description: str
    cancel_reason: str | None
    cancelled_at: datetime | None
    created_at: datetime
    session_id: str | None
    visitor_id: str | None
    manage_url: str


class BookingPageOut(BaseModel):
    items: list[AdminBookingOut]
    total: int
    limit: int
    offset: int


class BookedTimeOut(BaseModel):
    booking_id: int
    start: datetime
    end: datetime
    status: str
    invitee_timezone: str
    meeting_type: MeetingTypeRef
    agent: AgentRef
    cancelled_at: datetime | None


class TimelineEntryOut(BaseModel):
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


class ContactOut(BaseModel):
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    created_at: datetime
    visitor_ids: list[str]
    bookings: list[BookedTimeOut]
    timeline: list[TimelineEntryOut]


class FunnelStepOut(BaseModel):
    name: str
    sessions: int
    conversion: float
    drop_off: int
    drop_off_rate: float


class TrendPointOut(BaseModel):
    period: date = Field(description="UTC day, or the Monday of the ISO week")
    sessions: dict[str, int]


class StepDurationOut(BaseModel):
    from_step: str
    to_step: str
    median_seconds: float | None
    sessions: int


class FunnelFiltersOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime | None = Field(alias="from")
    to: datetime | None
    agent_id: int | None
    meeting_type_id: int | None
    granularity: str


class FunnelOut(BaseModel):
    steps: list[FunnelStepOut]
    trend: list[TrendPointOut]
    median_seconds_between_steps: list[StepDurationOut]
    filters: FunnelFiltersOut

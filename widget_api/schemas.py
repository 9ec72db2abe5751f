"""HTTP shapes of the public widget API (SPEC §6). Field names are contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Name = Annotated[str, StringConstraints(max_length=100)]
RequiredName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class AgentPublic(BaseModel):
    name: str
    timezone: str


class MeetingTypePublic(BaseModel):
    id: int
    name: str
    duration_minutes: int
    description: str


class LinkOut(BaseModel):
    agent: AgentPublic
    meeting_types: list[MeetingTypePublic]


class DaysOut(BaseModel):
    timezone: str
    days: list[str]


class SlotOut(BaseModel):
    start: datetime
    end: datetime


class SlotsOut(BaseModel):
    timezone: str
    slots: list[SlotOut]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visitor_id: Identifier
    session_id: Identifier
    link: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    meeting_type_id: int | None = None
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None
    start: AwareDatetime | None = None


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    meeting_type_id: int
    start: AwareDatetime = Field(description="An offered slot start, ISO 8601 with offset")
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The invitee's IANA time zone"
    )
    first_name: RequiredName
    last_name: RequiredName
    company_name: Name = ""
    email: EmailStr
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    visitor_id: Identifier | None = None
    session_id: Identifier | None = None
    locale: str | None = Field(
        default=None, description="The invitee's language, e.g. pl (SPEC §14); unknown or missing means en"
    )


class BookingCreated(BaseModel):
    id: int
    start: datetime
    end: datetime
    manage_url: str
    ics_url: str


class BookingMeetingType(BaseModel):
    id: int
    name: str
    duration_minutes: int


class BookingOut(BaseModel):
    id: int
    status: str
    start: datetime
    end: datetime
    timezone: str
    agent: AgentPublic
    meeting_type: BookingMeetingType
    first_name: str
    last_name: str
    company_name: str
    email: str
    description: str
    cancel_reason: str | None
    manage_url: str
    ics_url: str


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None

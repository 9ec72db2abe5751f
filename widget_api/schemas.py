"""HTTP shapes of the public widget API (SPEC §6). Field names are contract.

Answers are read from the domain objects (`Shape.of(booking, settings)`): each field names the
attribute it comes from, and the URLs built from the settings are typed as such (`BookingUrl`, …).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from shared.settings import Settings
from shared.timezones import zone

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Name = Annotated[str, StringConstraints(max_length=100)]
RequiredName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Out(BaseModel):
    """A response shape read from a domain object's attributes (an ORM row or a frozen dataclass)."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, source: Any, settings: Settings | None = None) -> Self:
        """The answer for `source`; `settings` when the shape holds URLs built from them."""
        return cls.model_validate(source, from_attributes=True, context={"settings": settings})


def _settings(info: ValidationInfo) -> Settings:
    settings = info.context.get("settings") if isinstance(info.context, dict) else None
    if not isinstance(settings, Settings):
        raise TypeError("a shape with URLs is built with Shape.of(source, settings)")
    return settings


def _booking_url(link: str, info: ValidationInfo) -> str:
    return _settings(info).booking_url(link)


def _manage_url(manage_token: str, info: ValidationInfo) -> str:
    return _settings(info).manage_url(manage_token)


def _ics_url(manage_token: str, info: ValidationInfo) -> str:
    return _settings(info).ics_url(manage_token)


# Read from the agent's `link` / the booking's `manage_token`: `Field(validation_alias=attribute(…))`.
BookingUrl = Annotated[str, AfterValidator(_booking_url)]
ManageUrl = Annotated[str, AfterValidator(_manage_url)]
IcsUrl = Annotated[str, AfterValidator(_ics_url)]


def attribute(name: str) -> AliasChoices:
    """The source attribute of a field whose name differs. An AliasChoices, not the plain name: several
    fields may read one attribute (a URL and the value it is built from), and the pydantic mypy plugin
    would otherwise see a duplicate keyword in the `__init__` it writes."""
    return AliasChoices(name)


class AgentPublic(Out):
    name: str
    timezone: str


class MeetingTypeRef(Out):
    id: int
    name: str
    duration_minutes: int


class LocationKindOut(Out):
    kind: str = Field(description="google_meet, phone, link, in_person or none")
    asks_phone: bool = Field(default=False, description="The form asks for the invitee's phone (the agent calls)")
    host: str | None = Field(default=None, description="For a link: its host name (e.g. zoom.us), never the URL")


class BookingLocationOut(Out):
    kind: str = Field(description="google_meet, phone, link, in_person or none")
    value: str | None = Field(description="The agent's phone, the link's URL or the address; else null")
    join_url: str | None = Field(
        description="The Meet link once the calendar event is written (null until then), a link's URL, else null"
    )


class MeetingTypePublic(Out):
    id: int
    name: str
    duration_minutes: int
    description: str
    location: LocationKindOut = Field(
        validation_alias="public_location", description="Only the kind: the value is shown once booked"
    )
    phone_required: bool = Field(
        default=False, description="The form asks for the invitee's phone (a phone type whose value is null)"
    )


class LinkOut(Out):
    agent: AgentPublic
    meeting_types: list[MeetingTypePublic]


class TeamPublic(Out):
    name: str
    mode: str = Field(description="round_robin (any free member takes the call) or collective (all members together)")


class TeamLinkOut(LinkOut):
    """A team's link (SPEC §15): `team` added; `agent` names the team until a booking says who takes it."""

    team: TeamPublic


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
        default=None,
        description="The invitee's language (en, pl, de, fr, es), e.g. the widget's; unknown or missing: en",
    )
    phone: str | None = Field(
        default=None,
        description="The invitee's phone: digits, spaces, + - ( ), ≤ 32 characters; required for a phone type "
        "whose value is null (the agent calls)",
    )


class BookingCreated(Out):
    id: int
    start: datetime = Field(validation_alias=attribute("start_at"))
    end: datetime = Field(validation_alias=attribute("end_at"))
    location: BookingLocationOut
    manage_url: ManageUrl = Field(validation_alias=attribute("manage_token"))
    ics_url: IcsUrl = Field(validation_alias=attribute("manage_token"))
    invitee_timezone: str = Field(exclude=True)

    @model_validator(mode="after")
    def _in_invitee_zone(self) -> Self:
        self.start, self.end = in_zone(self.start, self.end, timezone=self.invitee_timezone)
        return self


class AgentName(Out):
    name: str


class TeamBookingCreated(BookingCreated):
    """A booking through a team's link (SPEC §15): who takes the call."""

    agent: AgentName


class CollectiveBookingCreated(TeamBookingCreated):
    """A collective team booking: every member takes the call (`agent` is the first of them)."""

    agents: list[AgentName] = Field(validation_alias=attribute("host_agents"))


def booking_created(booking: Any, settings: Settings) -> BookingCreated:
    """The 201 of a booking: an agent link's as always; a team's says who (and, collective, all of them)."""
    if booking.team_id is None:
        return BookingCreated.of(booking, settings)
    if booking.hosts:
        return CollectiveBookingCreated.of(booking, settings)
    return TeamBookingCreated.of(booking, settings)


class BookingOut(Out):
    id: int
    status: str
    start: datetime = Field(validation_alias=attribute("start_at"))
    end: datetime = Field(validation_alias=attribute("end_at"))
    timezone: str = Field(validation_alias=attribute("invitee_timezone"))
    agent: AgentPublic
    meeting_type: MeetingTypeRef
    first_name: str
    last_name: str
    company_name: str
    email: str
    description: str
    phone: str | None
    cancel_reason: str | None
    locale: str = Field(description="The language of the invitee's emails and manage page")
    location: BookingLocationOut
    manage_url: ManageUrl = Field(validation_alias=attribute("manage_token"))
    ics_url: IcsUrl = Field(validation_alias=attribute("manage_token"))

    @model_validator(mode="after")
    def _in_invitee_zone(self) -> Self:
        self.start, self.end = in_zone(self.start, self.end, timezone=self.timezone)
        return self


def in_zone(start: datetime, end: datetime, *, timezone: str) -> tuple[datetime, datetime]:
    """A booking's times as the invitee sees them: in the zone they booked in."""
    invitee_zone = zone(timezone)
    return start.astimezone(invitee_zone), end.astimezone(invitee_zone)


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None

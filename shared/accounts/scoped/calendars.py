"""An agent's calendar connection and week, as the actor may see and change them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shared.accounts.permissions import Actor, require_can_manage_agent
from shared.agents.schemas import BUFFER_MAX_MINUTES
from shared.agents.service import get_agent
from shared.availability.busy import BusyTimeSource, booked_time, confirmed_bookings_between
from shared.availability.engine import occupied_time
from shared.availability.rules import Interval
from shared.availability.service import rules_from_model
from shared.calendars.google import service as google
from shared.models import CalendarConnection
from shared.models.calendar import STATUS_NEEDS_RECONNECT
from shared.settings import Settings

NOT_CONNECTED = "not_connected"


@dataclass(frozen=True)
class CalendarStatus:
    """What the settings page shows about an agent's calendar; `status` is one of the connection
    statuses (`connected`, `needs_reconnect`, `disconnected`) or `not_connected` (never was)."""

    status: str
    google_configured: bool
    provider: str | None = None
    account_email: str | None = None
    last_error: str | None = None
    busy_calendar_ids: list[str] = field(default_factory=list)
    destination_calendar_id: str | None = None
    connected_at: datetime | None = None


def calendar_status(session: Session, *, actor: Actor, agent_id: int, settings: Settings) -> CalendarStatus:
    require_can_manage_agent(actor, agent_id)
    connection = google.get_connection(session, agent_id=agent_id)
    if connection is None:
        return CalendarStatus(status=NOT_CONNECTED, google_configured=settings.google_configured)
    return CalendarStatus(
        status=connection.status,
        google_configured=settings.google_configured,
        provider=connection.provider,
        account_email=connection.account_email,
        last_error=connection.last_error,
        busy_calendar_ids=list(connection.busy_calendar_ids or []),
        destination_calendar_id=connection.destination_calendar_id,
        connected_at=connection.connected_at,
    )


def start_google_connect(session: Session, *, actor: Actor, agent_id: int, settings: Settings, now: datetime) -> str:
    """Google's consent URL for this agent (single-use state, 10 minutes); GoogleNotConfigured without credentials."""
    require_can_manage_agent(actor, agent_id)
    return google.start_connect(session, agent_id=agent_id, settings=settings, now=now)


def disconnect_google(
    session: Session, *, actor: Actor, agent_id: int, settings: Settings
) -> CalendarConnection | None:
    """Revoke the grant where possible and forget the tokens; the connection shows `disconnected`."""
    require_can_manage_agent(actor, agent_id)
    return google.disconnect(session, agent_id=agent_id, settings=settings)


# --- the week view -----------------------------------------------------------------------------------

KIND_AVAILABLE = "available"
KIND_BOOKING = "booking"
KIND_BUSY = "busy"
KIND_BUFFER = "buffer"  # the buffers a booking occupies around itself (SPEC §5), drawn lighter


@dataclass(frozen=True)
class WeekBlock:
    """One bar of the week view, on one local day of the agent, in wall-clock hours (0–24)."""

    day: date
    start_hour: float
    end_hour: float
    kind: str  # available | booking | busy | buffer
    label: str
    colour: str | None = None
    booking_id: int | None = None
    category: str = ""  # the meeting type of a booking, for the chart's legend


@dataclass(frozen=True)
class WeekView:
    agent_id: int
    agent_name: str
    timezone: str
    days: list[date]
    blocks: list[WeekBlock]
    busy_problem: str | None = None


def _hours(moment: datetime) -> float:
    return moment.hour + moment.minute / 60 + moment.second / 3600


def _wall_hours(value: time) -> float:
    return _hours(datetime.combine(date.min, value))


def _split_by_day(interval: Interval, days: list[date], zone: ZoneInfo) -> list[tuple[date, float, float]]:
    """The parts of a UTC interval on each of these local days, in wall-clock hours."""
    parts = []
    for day in days:
        day_start = datetime.combine(day, time(0), tzinfo=zone)
        day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        start = max(interval.start, day_start.astimezone(UTC))
        end = min(interval.end, day_end.astimezone(UTC))
        if start >= end:
            continue
        local_end = end.astimezone(zone)
        end_hour = 24.0 if local_end.date() > day else _hours(local_end)
        parts.append((day, _hours(start.astimezone(zone)), end_hour))
    return parts


def week_view(
    session: Session,
    *,
    actor: Actor,
    agent_id: int,
    week_start: date,
    calendar_busy: BusyTimeSource | None = None,
) -> WeekView:
    """Seven local days of the agent from `week_start`: hours offered, confirmed bookings, and the busy
    times `calendar_busy` (the Google source, when configured) reports for the agent's calendars."""
    require_can_manage_agent(actor, agent_id)
    agent = get_agent(session, agent_id=agent_id)
    rules = rules_from_model(agent.availability)
    zone = rules.zone
    days = [week_start + timedelta(days=offset) for offset in range(7)]
    start = datetime.combine(days[0], time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)

    blocks: list[WeekBlock] = []
    for day in days:
        for window_start, window_end in rules.windows_on(day):
            end_hour = 24.0 if window_end == time(0) else _wall_hours(window_end)
            label = f"{window_start:%H:%M}–{'24:00' if end_hour == 24.0 else f'{window_end:%H:%M}'}"
            blocks.append(WeekBlock(day, _wall_hours(window_start), end_hour, KIND_AVAILABLE, f"Available {label}"))
    # Bookings just outside the week still reach into it with their buffers.
    reach = timedelta(minutes=BUFFER_MAX_MINUTES)
    for booking in confirmed_bookings_between(session, agent_id=agent_id, start=start - reach, end=end + reach):
        label = f"{booking.meeting_type.name}: {booking.first_name} {booking.last_name} ({booking.company_name})"
        booked = booked_time(booking, agent.availability)
        for side, part in (
            ("before", Interval(booked.start - booked.buffer_before, booked.start)),
            ("after", Interval(booked.end, booked.end + booked.buffer_after)),
        ):
            if part.end <= part.start:
                continue
            minutes = int((part.end - part.start).total_seconds() // 60)
            for day, start_hour, end_hour in _split_by_day(part, days, zone):
                blocks.append(
                    WeekBlock(
                        day,
                        start_hour,
                        end_hour,
                        KIND_BUFFER,
                        f"Buffer {side} {booking.meeting_type.name} ({minutes} min): not offered",
                        colour=booking.meeting_type.colour,
                        booking_id=booking.id,
                        category=booking.meeting_type.name,
                    )
                )
        for day, start_hour, end_hour in _split_by_day(Interval(booking.start_at, booking.end_at), days, zone):
            blocks.append(
                WeekBlock(
                    day,
                    start_hour,
                    end_hour,
                    KIND_BOOKING,
                    label,
                    colour=booking.meeting_type.colour,
                    booking_id=booking.id,
                    category=booking.meeting_type.name,
                )
            )
    busy = (
        calendar_busy.busy_intervals(session, agent=agent, start=start, end=end, fresh=False) if calendar_busy else []
    )
    for interval in busy:
        for day, start_hour, end_hour in _split_by_day(occupied_time(interval), days, zone):
            blocks.append(WeekBlock(day, start_hour, end_hour, KIND_BUSY, "Busy in Google Calendar"))
    # Read after the lookup: a grant found revoked just now is already marked.
    connection = google.get_connection(session, agent_id=agent_id)
    problem = None
    if connection is not None and connection.status == STATUS_NEEDS_RECONNECT:
        problem = "Google Calendar needs reconnecting, so its busy times are not shown"
    return WeekView(
        agent_id=agent.id,
        agent_name=agent.name,
        timezone=rules.timezone,
        days=days,
        blocks=blocks,
        busy_problem=problem,
    )

"""Checks for agent, availability and meeting type input: each failure names the field and the rule.

They build new, normalised values and never touch the database, so a refused update changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from shared.agents.errors import InvalidAgent, InvalidAvailability, InvalidMeetingType
from shared.agents.schemas import (
    BUFFER_MAX_MINUTES,
    CHANGE_CUTOFF_MAX_MINUTES,
    DESCRIPTION_MAX_LENGTH,
    DURATION_RANGE,
    HORIZON_DAYS_RANGE,
    MAX_OVERRIDES,
    MAX_PER_DAY_RANGE,
    MAX_REMINDERS,
    MAX_WINDOWS_PER_DAY,
    MIN_NOTICE_MAX_MINUTES,
    NAME_MAX_LENGTH,
    REMINDER_MAX_MINUTES,
    SLOT_INTERVAL_RANGE,
    AvailabilityInput,
)
from shared.models.agent import ROLE_AGENT, ROLE_MANAGER, WEEKDAYS
from shared.timezones import validate_timezone

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
END_OF_DAY = "24:00"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLES = (ROLE_AGENT, ROLE_MANAGER)


def check_agent(*, name: str, email: str, role: str) -> tuple[str, str]:
    """The stored (name, email) of a new agent, stripped; InvalidAgent for a missing name, something
    that is not an email address or an unknown role. The admin API and the dashboard both refuse
    through this (shared.agents.service.create_agent)."""
    if role not in ROLES:
        raise InvalidAgent(f"role must be {ROLE_AGENT} or {ROLE_MANAGER}, got {role!r}")
    if not isinstance(name, str) or not name.strip():
        raise InvalidAgent("name is required")
    if not isinstance(email, str) or not EMAIL.match(email.strip()):
        raise InvalidAgent(f"{email!r} is not an email address")
    return name.strip(), email.strip()


def check_int(value: object, *, field: str, low: int, high: int, error: type[Exception]) -> int:
    # bool is an int subclass, but True is not a number of minutes.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(f"{field} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _window(raw: object, *, where: str) -> tuple[str, str]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise InvalidAvailability(f'{where}: a window must be a pair ["HH:MM", "HH:MM"], got {raw!r}')
    start, end = raw
    if not isinstance(start, str) or not HHMM.match(start):
        raise InvalidAvailability(f'{where}: start must be "HH:MM" from 00:00 to 23:59, got {start!r}')
    if not isinstance(end, str) or not (HHMM.match(end) or end == END_OF_DAY):
        raise InvalidAvailability(f'{where}: end must be "HH:MM" from 00:01 to 24:00 (24:00 = midnight), got {end!r}')
    if _minutes(end) <= _minutes(start):
        raise InvalidAvailability(f"{where}: end {end} must be after start {start} (use 24:00 for midnight)")
    return start, end


def check_windows(raw: object, *, where: str) -> list[list[str]]:
    """Windows of one day, sorted by start; refused when any two overlap (touching is fine)."""
    if not isinstance(raw, list | tuple):
        raise InvalidAvailability(f"{where}: expected a list of windows, got {raw!r}")
    if len(raw) > MAX_WINDOWS_PER_DAY:
        raise InvalidAvailability(f"{where}: at most {MAX_WINDOWS_PER_DAY} windows a day")
    windows = sorted((_window(item, where=where) for item in raw), key=lambda w: _minutes(w[0]))
    for previous, current in zip(windows, windows[1:], strict=False):
        if _minutes(current[0]) < _minutes(previous[1]):
            raise InvalidAvailability(
                f"{where}: windows {previous[0]}–{previous[1]} and {current[0]}–{current[1]} overlap"
            )
    return [list(w) for w in windows]


def check_weekly(raw: object) -> dict[str, list[list[str]]]:
    if not isinstance(raw, Mapping):
        raise InvalidAvailability(f'weekly must be an object like {{"mon": [["09:00", "17:00"]]}}, got {raw!r}')
    unknown = [key for key in raw if key not in WEEKDAYS]
    if unknown:
        raise InvalidAvailability(f"weekly: unknown day {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
    return {day: check_windows(raw[day], where=f"weekly.{day}") for day in WEEKDAYS if day in raw}


def check_overrides(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list | tuple):
        raise InvalidAvailability(f'overrides must be a list of {{"date", "windows"}}, got {raw!r}')
    if len(raw) > MAX_OVERRIDES:
        raise InvalidAvailability(f"overrides: at most {MAX_OVERRIDES} dates")
    seen: set[str] = set()
    overrides: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        where = f"overrides[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"date", "windows"} or "date" not in item:
            raise InvalidAvailability(f'{where}: expected {{"date": "YYYY-MM-DD", "windows": [...]}}, got {item!r}')
        day = item["date"]
        try:
            if not isinstance(day, str) or not ISO_DATE.match(day):
                raise ValueError
            date.fromisoformat(day)
        except ValueError:
            raise InvalidAvailability(f"{where}: date must be a real date YYYY-MM-DD, got {day!r}") from None
        if day in seen:
            raise InvalidAvailability(f"{where}: date {day} appears more than once")
        seen.add(day)
        windows = check_windows(item.get("windows", []), where=f"{where} ({day})")
        overrides.append({"date": day, "windows": windows})
    return sorted(overrides, key=lambda o: str(o["date"]))


def check_availability(data: AvailabilityInput) -> dict[str, Any]:
    """The column values of a valid availability; InvalidAvailability naming the first bad field."""
    if not isinstance(data.timezone, str):
        raise InvalidAvailability(f"timezone must be an IANA name, got {data.timezone!r}")
    timezone = validate_timezone(data.timezone)
    max_per_day = data.max_per_day
    if max_per_day is not None:
        max_per_day = check_int(
            max_per_day,
            field="max_per_day",
            low=MAX_PER_DAY_RANGE[0],
            high=MAX_PER_DAY_RANGE[1],
            error=InvalidAvailability,
        )
    return {
        "timezone": timezone,
        "weekly": check_weekly(data.weekly),
        "min_notice_minutes": check_int(
            data.min_notice_minutes,
            field="min_notice_minutes",
            low=0,
            high=MIN_NOTICE_MAX_MINUTES,
            error=InvalidAvailability,
        ),
        "horizon_days": check_int(
            data.horizon_days,
            field="horizon_days",
            low=HORIZON_DAYS_RANGE[0],
            high=HORIZON_DAYS_RANGE[1],
            error=InvalidAvailability,
        ),
        "buffer_before_minutes": check_int(
            data.buffer_before_minutes,
            field="buffer_before_minutes",
            low=0,
            high=BUFFER_MAX_MINUTES,
            error=InvalidAvailability,
        ),
        "buffer_after_minutes": check_int(
            data.buffer_after_minutes,
            field="buffer_after_minutes",
            low=0,
            high=BUFFER_MAX_MINUTES,
            error=InvalidAvailability,
        ),
        "slot_interval_minutes": check_int(
            data.slot_interval_minutes,
            field="slot_interval_minutes",
            low=SLOT_INTERVAL_RANGE[0],
            high=SLOT_INTERVAL_RANGE[1],
            error=InvalidAvailability,
        ),
        "max_per_day": max_per_day,
        "overrides": check_overrides(data.overrides),
        "change_cutoff_minutes": check_int(
            data.change_cutoff_minutes,
            field="change_cutoff_minutes",
            low=0,
            high=CHANGE_CUTOFF_MAX_MINUTES,
            error=InvalidAvailability,
        ),
    }


def check_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidMeetingType("name is required")
    if len(value) > NAME_MAX_LENGTH:
        raise InvalidMeetingType(f"name must be at most {NAME_MAX_LENGTH} characters, got {len(value)}")
    return value


def check_duration(value: object) -> int:
    low, high = DURATION_RANGE
    return check_int(value, field="duration_minutes", low=low, high=high, error=InvalidMeetingType)


def check_description(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidMeetingType(f"description must be text, got {value!r}")
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise InvalidMeetingType(f"description must be at most {DESCRIPTION_MAX_LENGTH} characters, got {len(value)}")
    return value


def check_colour(value: object) -> str:
    if not isinstance(value, str) or not COLOUR.match(value):
        raise InvalidMeetingType(f'colour must be "#rrggbb", got {value!r}')
    return value.lower()


def check_active(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidMeetingType(f"active must be true or false, got {value!r}")
    return value


def check_meeting_type_rules(values: Mapping[str, object], *, horizon_days: int) -> dict[str, int | None]:
    """A meeting type's own rules (each None = the agent's setting), checked against the agent's
    horizon: negative values, a buffer or daily maximum out of range, and a notice that reaches past
    the horizon (nothing could ever be booked) are refused with the field and the reason."""
    horizon_minutes = horizon_days * 24 * 60
    bounds = {
        "min_notice_minutes": (0, min(MIN_NOTICE_MAX_MINUTES, horizon_minutes)),
        "buffer_before_minutes": (0, BUFFER_MAX_MINUTES),
        "buffer_after_minutes": (0, BUFFER_MAX_MINUTES),
        "max_per_day": MAX_PER_DAY_RANGE,
    }
    checked: dict[str, int | None] = {}
    for field, value in values.items():
        if value is None:
            checked[field] = None
            continue
        low, high = bounds[field]
        # `type(...) is int`: a bool is an int subclass, but True is not a number of minutes.
        if field == "min_notice_minutes" and type(value) is int and value >= horizon_minutes:
            raise InvalidMeetingType(
                f"min_notice_minutes {value} must be shorter than the agent's booking horizon of "
                f"{horizon_days} days ({horizon_minutes} minutes)"
            )
        checked[field] = check_int(value, field=field, low=low, high=high, error=InvalidMeetingType)
    return checked


def check_reminder_minutes(value: object) -> list[int]:
    """When the invitee is reminded, in minutes before the start: at most MAX_REMINDERS different
    whole numbers from 0 to 30 days; stored largest (earliest) first. InvalidMeetingType otherwise."""
    if not isinstance(value, list | tuple):
        raise InvalidMeetingType(f"reminder_minutes must be a list of minutes before the start, got {value!r}")
    if len(value) > MAX_REMINDERS:
        raise InvalidMeetingType(f"reminder_minutes: at most {MAX_REMINDERS} reminders, got {len(value)}")
    minutes = [
        check_int(item, field="reminder_minutes", low=0, high=REMINDER_MAX_MINUTES, error=InvalidMeetingType)
        for item in value
    ]
    repeated = sorted({m for m in minutes if minutes.count(m) > 1})
    if repeated:
        raise InvalidMeetingType(f"reminder_minutes: {repeated[0]} appears more than once")
    return sorted(minutes, reverse=True)

"""Inputs of the agent services (domain values; the HTTP schemas live in widget_api).

Values arrive from the admin API and from the dashboard's forms, so the services validate every
field themselves rather than trusting the caller's types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from shared.models.agent import AVAILABILITY_DEFAULTS

# Bounds shared by the service (which enforces them) and the front doors (which may show them).
MIN_NOTICE_MAX_MINUTES = 60 * 24 * 30
HORIZON_DAYS_RANGE = (1, 730)
BUFFER_MAX_MINUTES = 480
SLOT_INTERVAL_RANGE = (5, 480)
MAX_PER_DAY_RANGE = (1, 100)
CHANGE_CUTOFF_MAX_MINUTES = 60 * 24 * 30
MAX_WINDOWS_PER_DAY = 48
MAX_OVERRIDES = 1000
DURATION_RANGE = (5, 480)
NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 2000
DEFAULT_COLOUR = "#2563eb"
# Reminders of one meeting type: at most this many, each 0 to 30 days before the start.
MAX_REMINDERS = 5
REMINDER_MAX_MINUTES = 30 * 24 * 60


@dataclass(frozen=True)
class AvailabilityInput:
    """A whole availability (PUT semantics): omitted fields take the defaults of a new agent.

    `weekly` maps "mon".."sun" to [["HH:MM", "HH:MM"], ...] in the agent's wall-clock time (a missing
    day has no hours); `overrides` is [{"date": "YYYY-MM-DD", "windows": [...]}] where empty
    windows make the date a day off.
    """

    timezone: str
    weekly: Mapping[str, Any]
    min_notice_minutes: int = AVAILABILITY_DEFAULTS.min_notice_minutes
    horizon_days: int = AVAILABILITY_DEFAULTS.horizon_days
    buffer_before_minutes: int = AVAILABILITY_DEFAULTS.buffer_before_minutes
    buffer_after_minutes: int = AVAILABILITY_DEFAULTS.buffer_after_minutes
    slot_interval_minutes: int = AVAILABILITY_DEFAULTS.slot_interval_minutes
    max_per_day: int | None = AVAILABILITY_DEFAULTS.max_per_day
    overrides: Sequence[Any] = field(default_factory=list)
    change_cutoff_minutes: int = AVAILABILITY_DEFAULTS.change_cutoff_minutes


# A meeting type's own rules (SPEC §5): None = the agent's availability setting.
MEETING_TYPE_RULE_FIELDS = ("min_notice_minutes", "buffer_before_minutes", "buffer_after_minutes", "max_per_day")


class MeetingTypeChanges(TypedDict, total=False):
    """A partial update of a meeting type: only the keys present are changed."""

    name: str
    duration_minutes: int
    description: str
    colour: str
    active: bool
    min_notice_minutes: int | None
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    max_per_day: int | None
    location: Mapping[str, Any]  # {"kind", "value"}: shared.agents.locations
    reminder_minutes: list[int]


class AgentChanges(TypedDict, total=False):
    """A partial update of an agent's own settings: only the keys present are changed."""

    name: str
    locale: str

"""The funnel's result: plain frozen values the admin API and the dashboard both render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Granularity = Literal["day", "week"]
GRANULARITIES: tuple[str, ...] = ("day", "week")


@dataclass(frozen=True)
class FunnelStep:
    """Distinct booking sessions that reached this step, and how many of the previous step's did not."""

    name: str
    sessions: int
    conversion: float  # sessions / previous step's sessions (1.0 for a non-empty first step)
    drop_off: int  # previous step's sessions - sessions (0 for the first step)
    drop_off_rate: float  # drop_off / previous step's sessions


@dataclass(frozen=True)
class TrendPoint:
    """Sessions per step among the sessions whose first step event fell in this UTC day or week."""

    period: date  # the UTC day, or the Monday starting the ISO week
    sessions: Mapping[str, int]  # step name -> sessions, every step present


@dataclass(frozen=True)
class StepDuration:
    """Median time from the first event of one step to the first event of the next, per session."""

    from_step: str
    to_step: str
    median_seconds: float | None  # None when no session has both steps in order
    sessions: int  # sessions the median is taken over


@dataclass(frozen=True)
class FunnelFilters:
    start: datetime | None
    end: datetime | None
    agent_id: int | None
    meeting_type_id: int | None
    granularity: Granularity
    team_id: int | None = None  # SPEC §15: sessions of this team's link


@dataclass(frozen=True)
class FunnelResult:
    steps: list[FunnelStep]
    trend: list[TrendPoint]
    median_seconds_between_steps: list[StepDuration]
    filters: FunnelFilters

"""Inputs of the team services (domain values; the HTTP schemas live in widget_api)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

TEAM_NAME_MAX_LENGTH = 200
# A team's members: enough for a sales floor, few enough that a team's month stays within its budget.
MAX_MEMBERS = 50


class TeamChanges(TypedDict, total=False):
    """A partial update of a team: only the keys present are changed."""

    name: str
    mode: str
    member_ids: Sequence[int]

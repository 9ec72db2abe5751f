"""Domain errors. They carry no HTTP; widget_api maps each family to a status code in one place."""

from __future__ import annotations


class MeetingsError(Exception):
    """Base of every domain error; `str(error)` is the reason shown to the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(MeetingsError):
    """The thing does not exist, or is not visible to the caller (unknown/rotated link, foreign type)."""


class InvalidInput(MeetingsError):
    """Well-formed but unacceptable input (unknown zone, end before start, too long)."""


class Conflict(MeetingsError):
    """The request clashes with the current state (slot taken, cancelled booking rescheduled)."""


class Forbidden(MeetingsError):
    """The caller is known but may not do this (agent touching another agent's data)."""


class ServiceUnavailable(MeetingsError):
    """A dependency (database, provider) cannot answer right now; retry later."""

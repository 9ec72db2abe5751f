"""Calendar values from the outside: IANA zone names, validated against the tz database (tzdata ships
it on every platform), and ISO dates."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from shared.errors import InvalidInput


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(name: str) -> str:
    """The name itself if it is an IANA zone ('Europe/Warsaw', 'UTC'); InvalidInput otherwise."""
    if not isinstance(name, str) or name not in _known_zones():
        raise InvalidInput(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Warsaw'")
    return name


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(validate_timezone(name))


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: str) -> date:
    """A real calendar date written YYYY-MM-DD; InvalidInput otherwise."""
    try:
        if not ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"date must be YYYY-MM-DD, got {value!r}") from None

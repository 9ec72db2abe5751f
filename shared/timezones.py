"""IANA zone names, validated against the tz database (tzdata ships it on every platform)."""

from __future__ import annotations

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

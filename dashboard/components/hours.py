"""Weekly hours and date overrides as editable text, and back.

The dashboard shows a day's windows as `09:00-12:00, 13:00-17:00` and overrides as one line per date
(`2026-12-24: off`, `2026-12-27: 10:00-13:00`). Parsing only splits the text; the rules (HH:MM,
end after start, no overlaps, real dates) are checked by shared.agents.validation when saving, so the
dashboard and the admin API refuse the same things with the same messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from shared.errors import InvalidInput

DAY_OFF_WORDS = {"off", "closed", "none", "-", "day off"}
_RANGE = re.compile(r"^\s*(\S+?)\s*(?:-|–|—|to)\s*(\S+)\s*$")
_SHORT_HOUR = re.compile(r"^(\d):(\d\d)$")


class HoursFormatError(InvalidInput):
    """Text that cannot be read as windows at all (the field is named in the message)."""


def _hhmm(value: str) -> str:
    # "9:00" is what people type for 09:00.
    match = _SHORT_HOUR.match(value)
    return f"0{match.group(1)}:{match.group(2)}" if match else value


def format_windows(windows: Sequence[Sequence[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in windows)


def parse_windows(text: str, *, where: str) -> list[list[str]]:
    """'09:00-12:00, 13:00-17:00' -> [['09:00', '12:00'], ['13:00', '17:00']]; empty or 'off' -> []."""
    text = text.strip()
    if not text or text.lower() in DAY_OFF_WORDS:
        return []
    windows = []
    for chunk in re.split(r"[,;]", text):
        if not chunk.strip():
            continue
        match = _RANGE.match(chunk)
        if match is None:
            raise HoursFormatError(f'{where}: write hours as "09:00-12:00, 13:00-17:00", got {chunk.strip()!r}')
        windows.append([_hhmm(match.group(1)), _hhmm(match.group(2))])
    return windows


def format_overrides(overrides: Sequence[Mapping[str, Any]]) -> str:
    lines = []
    for item in overrides:
        windows = item.get("windows") or []
        lines.append(f"{item['date']}: {format_windows(windows) if windows else 'off'}")
    return "\n".join(lines)


def parse_overrides(text: str) -> list[dict[str, Any]]:
    """One 'YYYY-MM-DD: off' or 'YYYY-MM-DD: 10:00-13:00, ...' per line; blank lines are skipped."""
    overrides = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        day, separator, hours = line.partition(":")
        if not separator or not hours.strip():
            raise HoursFormatError(
                f'date overrides, line {number}: write "YYYY-MM-DD: off" or "YYYY-MM-DD: 10:00-13:00", '
                f"got {line.strip()!r}"
            )
        overrides.append({"date": day.strip(), "windows": parse_windows(hours, where=f"date overrides, line {number}")})
    return overrides

"""Showing text people typed (names, companies, descriptions) as text, never as markup.

Streamlit renders Markdown in headings, labels and st.write; a name like `[x](javascript:…)` or
`**boss**` must appear exactly as typed. Tables (st.dataframe), st.text and st.code already show
plain text; everything else goes through `md()`.
"""

from __future__ import annotations

import string
from datetime import datetime
from zoneinfo import ZoneInfo

_ESCAPED = {char: "\\" + char for char in string.punctuation}


def md(value: object) -> str:
    """The value as Markdown that renders to exactly its text (every ASCII punctuation escaped)."""
    text = " ".join(str(value).split())  # no line breaks or indentation that Markdown would read
    return "".join(_ESCAPED.get(char, char) for char in text)


def when(moment: datetime | None, zone: str | ZoneInfo = "UTC", *, with_zone: bool = False) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone)
    text = local.strftime("%a %d %b %Y %H:%M")
    return f"{text} {local.tzname()}" if with_zone else text


def duration(seconds: float | None) -> str:
    """'1 h 05 min', '3 min 20 s', '42 s'; an em dash when there is no value."""
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"

"""Which busy-time sources the API uses: local bookings always, Google Calendar when it is configured."""

from __future__ import annotations

from collections.abc import Callable

from shared.availability.busy import BusyTimeSource
from shared.availability.service import default_sources
from shared.settings import Settings


def busy_sources_for(settings: Settings) -> Callable[[], list[BusyTimeSource]]:
    """A factory returning the sources for one request; the Google source (and its cache) is shared."""
    if not settings.google_configured:
        return default_sources
    from shared.calendars.google.busy import GoogleBusySource  # the Google libraries load only when used

    google = GoogleBusySource(settings)

    def sources() -> list[BusyTimeSource]:
        return [*default_sources(), google]

    return sources

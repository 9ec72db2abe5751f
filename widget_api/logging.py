"""The API's access log: one line per request with the route template (`/api/v1/bookings/{manage_token}`),
never the raw path or query (manage tokens and booking links are credentials).

Its format, fields and scrubbing are every process's (shared.observability.logs).
"""

from __future__ import annotations

import logging

from shared.observability.logs import REQUEST_ID

__all__ = ["REQUEST_ID", "access_logger"]

access_logger = logging.getLogger("meetings.access")

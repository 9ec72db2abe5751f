"""Structured JSON logs: one line per record, a request id on every line, secrets masked.

Request lines carry the route template (`/api/v1/bookings/{manage_token}`), never the raw path or
query: manage tokens and booking links are credentials. As a second line of defence every record
is scrubbed before it is written: e-mail addresses are masked (`a***@example.com`) and bearer
tokens, Authorization values and manage/link paths are replaced.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from shared.redaction import scrub_log_text

REQUEST_ID: ContextVar[str | None] = ContextVar("meetings_request_id", default=None)
access_logger = logging.getLogger("meetings.access")

# Attributes every LogRecord has; anything else came in through `extra=` and is logged as a field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_MARK = "_meetings_json"


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_log_text(value)
    if isinstance(value, dict):
        return {str(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub_log_text(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(_scrubbed(entry), ensure_ascii=False, default=str)


def configure_logging(level: int | None = None) -> None:
    """Make this process log JSON (idempotent). Called by the API's process entry point.

    uvicorn's access log is switched off: it prints raw paths, which hold manage tokens and links;
    `meetings.access` replaces it. uvicorn's own handlers get the JSON formatter too, so tracebacks
    are scrubbed like everything else.
    """
    # uvicorn sets its --log-level on uvicorn.error; follow it so `--log-level warning` is quiet.
    uvicorn_level = logging.getLogger("uvicorn.error").level
    level = level if level is not None else (uvicorn_level or logging.INFO)
    root = logging.getLogger()
    if not any(getattr(handler, _HANDLER_MARK, False) for handler in root.handlers):
        for handler in list(root.handlers):
            root.removeHandler(handler)
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(JsonFormatter())
    logging.getLogger("uvicorn.access").disabled = True

"""One log format for every process (SPEC §17): API, worker, dashboard launcher, demo, doctor.

`MEETINGS_LOG_FORMAT=json|text` (default json in production, text otherwise). Both carry the same
fields: time, level, logger, message, and the request id or job id and agent id when there is one.
Both are scrubbed by the rules of shared.redaction (e-mails masked, bearer tokens,
Authorization values and token-bearing paths removed), so a text log is as safe to ship as a JSON one.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from shared.observability.context import AGENT_ID, JOB_ID
from shared.redaction import scrub_log_text as scrub
from shared.settings import Settings

_HANDLER_MARK = "_meetings_handler"

REQUEST_ID: ContextVar[str | None] = ContextVar("meetings_request_id", default=None)

# Attributes every LogRecord has; anything else came in through `extra=` and is logged as a field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {str(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))


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


QUIET_LOGGERS = {"alembic": logging.WARNING, "httpx": logging.WARNING, "googleapiclient.discovery_cache": logging.ERROR}


class ContextFilter(logging.Filter):
    """Put the job id and agent id of the job being run on every record (the request id is the
    JSON formatter's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job_id, agent_id = JOB_ID.get(), AGENT_ID.get()
        if job_id is not None and not hasattr(record, "job_id"):
            record.job_id = job_id
        if agent_id is not None and not hasattr(record, "agent_id"):
            record.agent_id = agent_id
        return True


class TextFormatter(logging.Formatter):
    """`2026-06-01T06:00:00.000+00:00 INFO meetings.worker: message  request_id=… job_id=…`, scrubbed."""

    FIELDS = ("request_id", "job_id", "agent_id")

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        line = f"{moment} {record.levelname} {record.name}: {record.getMessage()}"
        context: dict[str, Any] = {name: getattr(record, name, None) for name in self.FIELDS}
        context["request_id"] = context["request_id"] or REQUEST_ID.get()
        extras = " ".join(f"{name}={value}" for name, value in context.items() if value is not None)
        if extras:
            line = f"{line}  {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return scrub(line)


def formatter_for(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.effective_log_format == "json" else TextFormatter()


def configure_logging(settings: Settings, *, level: int | None = None) -> None:
    """Make this process log in the configured format on stderr (idempotent).

    Every handler already on the root, uvicorn's and Streamlit's loggers gets the same formatter, and
    uvicorn's access log stays off: it prints raw paths, which hold manage tokens (`meetings.access`
    logs the route template instead).
    """
    # Under uvicorn, follow its --log-level (set on uvicorn.error), so `--log-level warning` is quiet.
    level = level if level is not None else (logging.getLogger("uvicorn.error").level or logging.INFO)
    formatter = formatter_for(settings)
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, _HANDLER_MARK, False)]
    if not ours:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    for handler in root.handlers:
        handler.setFormatter(formatter)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "streamlit"):
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)
    logging.getLogger("uvicorn.access").disabled = True
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)


def uvicorn_log_config(settings: Settings, *, level: str = "info") -> dict[str, Any]:
    """uvicorn's `log_config`, so its supervisor process (`--workers N`) logs in our format too."""
    formatter = (
        {"()": "shared.observability.logs.JsonFormatter"}
        if settings.effective_log_format == "json"
        else {"()": "shared.observability.logs.TextFormatter"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"meetings": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "meetings", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }

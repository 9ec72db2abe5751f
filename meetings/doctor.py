"""`meetings doctor`: check the configuration this process would run with, in plain words (SPEC §17).

One line per check: `OK`, `FAIL` (what is wrong, then how to fix it) or `SKIP` (could not be checked
because an earlier check failed). Exit 0 when nothing failed, 1 otherwise. Nothing is changed: the
database is only read, the SMTP server only sees EHLO, STARTTLS and AUTH (no mail is sent).

Checks, in order: settings, secrets, base URL, Google redirect URI, Google client, embed origins,
SMTP, database (reachable, migration head), outbox backlog (oldest due job, stale claims), agents
whose Google connection needs reconnecting.
"""

from __future__ import annotations

import os
import smtplib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO
from urllib.parse import urlparse

from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shared.models import Agent, CalendarConnection, utcnow
from shared.models.calendar import STATUS_NEEDS_RECONNECT
from shared.observability.queue import outbox_health
from shared.outbox.contract import PermanentFailure, RetryLater
from shared.outbox.worker import describe_error
from shared.settings import PLACEHOLDER_SECRETS, Settings

OAUTH_CALLBACK_PATH = "/oauth/google/callback"
# A due job older than this means no worker is keeping up (or none is running).
BACKLOG_LIMIT_SECONDS = 300.0
SMTP_TIMEOUT_SECONDS = 10.0
DB_CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Check:
    status: str  # OK | FAIL | SKIP
    name: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4} {self.name}: {self.message}"
        return f"{text} Fix: {self.fix}" if self.fix else text


def ok(name: str, message: str) -> Check:
    return Check("OK", name, message)


def fail(name: str, message: str, fix: str) -> Check:
    return Check("FAIL", name, message, fix)


def skip(name: str, message: str) -> Check:
    return Check("SKIP", name, message)


def load_settings() -> tuple[Settings, list[Check]]:
    """The settings as the processes would read them. Refused settings are still loaded (without the
    refusal) so every other check can run, and each refusal becomes a FAIL line."""
    try:
        return Settings(), [ok("settings", "every variable parses")]
    except ValidationError as error:
        problems = [
            fail(
                "settings",
                f"{'.'.join(str(p) for p in item['loc']) or 'value'}: {item['msg']}",
                "correct that environment variable (README, Configuration)",
            )
            for item in error.errors()
            if "real secret" not in item["msg"]  # said again, per secret, by check_secrets
        ]
    # Load again without the production refusal, then put MEETINGS_ENV back for the checks that use it.
    try:
        relaxed = Settings(environment="development")
    except ValidationError:
        return Settings.model_construct(), problems
    environment = os.environ.get("MEETINGS_ENV", "development")
    return relaxed.model_copy(update={"environment": environment}), problems or [
        ok("settings", "every variable parses")
    ]


def check_secrets(settings: Settings) -> list[Check]:
    checks = []
    for name, variable in (("secret_key", "MEETINGS_SECRET_KEY"), ("admin_token", "MEETINGS_ADMIN_TOKEN")):
        value: str = getattr(settings, name)
        placeholder = value in PLACEHOLDER_SECRETS or len(value) < 16
        if not placeholder:
            checks.append(ok(variable, "set to a real secret"))
        elif settings.environment == "production":
            checks.append(
                fail(
                    variable,
                    "is a placeholder or shorter than 16 characters, and MEETINGS_ENV=production refuses it",
                    f"set {variable} to a long random value, e.g. `openssl rand -hex 32`",
                )
            )
        else:
            checks.append(ok(variable, "development placeholder (refused when MEETINGS_ENV=production)"))
    return checks


def _is_http_url(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_base_url(settings: Settings) -> list[Check]:
    base = settings.base_url.rstrip("/")
    if not _is_http_url(base):
        return [
            fail(
                "MEETINGS_BASE_URL",
                f"{base!r} is not an http(s) address",
                "set it to the public address, e.g. https://meetings.example.com",
            )
        ]
    parts = urlparse(base)
    if (
        settings.environment == "production"
        and parts.scheme != "https"
        and parts.hostname not in ("127.0.0.1", "localhost")
    ):
        return [
            fail(
                "MEETINGS_BASE_URL",
                f"{base} is plain http in production; links in emails would be sent unencrypted",
                "serve it over https behind your proxy and set MEETINGS_BASE_URL=https://…",
            )
        ]
    if parts.path not in ("", "/"):
        return [ok("MEETINGS_BASE_URL", f"{base} (served under the path {parts.path}; the proxy must strip it)")]
    return [ok("MEETINGS_BASE_URL", base)]


def check_google(settings: Settings) -> list[Check]:
    values = {
        "GOOGLE_CLIENT_ID": settings.google_client_id,
        "GOOGLE_CLIENT_SECRET": settings.google_client_secret,
        "GOOGLE_REDIRECT_URI": settings.google_redirect_uri,
    }
    missing = [name for name, value in values.items() if not value]
    checks: list[Check] = []
    if len(missing) == len(values):
        checks.append(
            ok(
                "Google",
                "not configured: the product works; agents cannot connect Google Calendar (busy times: bookings only)",
            )
        )
    elif missing:
        checks.append(
            fail(
                "Google",
                f"partly configured: {', '.join(missing)} missing, so nobody can connect Google Calendar",
                "set all three from your Google Cloud OAuth client, or none (docs/google.md)",
            )
        )
    else:
        checks.append(ok("Google", "OAuth client configured"))
    expected = settings.base_url.rstrip("/") + OAUTH_CALLBACK_PATH
    redirect = settings.google_redirect_uri
    if redirect is None:
        checks.append(ok("GOOGLE_REDIRECT_URI", "unset (Google not configured)"))
    elif redirect.rstrip("/") != expected:
        checks.append(
            fail(
                "GOOGLE_REDIRECT_URI",
                f"{redirect} does not match MEETINGS_BASE_URL; Google would send agents back to the wrong place",
                f"set GOOGLE_REDIRECT_URI={expected} and register exactly that URI in the OAuth client",
            )
        )
    else:
        checks.append(ok("GOOGLE_REDIRECT_URI", f"{redirect} matches MEETINGS_BASE_URL"))
    return checks


def check_embed_origins(settings: Settings) -> list[Check]:
    origins = settings.embed_origin_list
    if not origins:
        return [
            fail(
                "MEETINGS_EMBED_ORIGINS",
                "empty: no site can use the widget API from a browser",
                "list the sites that embed the widget, e.g. https://app.example.com, or *",
            )
        ]
    bad = []
    for origin in origins:
        if origin == "*":
            continue
        parts = urlparse(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("",) or parts.query:
            bad.append(origin)
    if bad:
        return [
            fail(
                "MEETINGS_EMBED_ORIGINS",
                f"not origins: {', '.join(bad)} (an origin is scheme://host[:port], no path)",
                "write each as e.g. https://app.example.com, comma-separated",
            )
        ]
    if "*" in origins:
        return [ok("MEETINGS_EMBED_ORIGINS", "* (any site may call the public widget API)")]
    return [ok("MEETINGS_EMBED_ORIGINS", ", ".join(origins))]


def check_smtp(settings: Settings) -> list[Check]:
    """EHLO, STARTTLS and AUTH as SMTP_URL asks, then QUIT: no mail is sent."""
    from shared.notifications.smtp import _connect, _prepare, parse_smtp_url

    if not settings.smtp_url:
        return [ok("SMTP", "SMTP_URL unset: emails are stored in the database and shown in the dashboard, not sent")]
    try:
        config = parse_smtp_url(settings.smtp_url)
    except ValueError as error:
        return [
            fail(
                "SMTP",
                f"SMTP_URL cannot be read: {describe_error(error, settings)}",
                "use smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465 or smtp://host:25",
            )
        ]
    where = f"{config.host}:{config.port}"
    try:
        client = _connect(config)
        try:
            _prepare(client, config)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    except (RetryLater, PermanentFailure) as error:
        return [
            fail(
                "SMTP",
                f"{where}: {describe_error(error, settings)}",
                "check the host, port, TLS choice and credentials in SMTP_URL",
            )
        ]
    done = {"ssl": "TLS", "starttls": "STARTTLS", "plain": "no TLS"}[config.security]
    auth = "AUTH accepted" if config.username else "no AUTH"
    return [ok("SMTP", f"{where} answers ({done}, {auth}); no mail was sent")]


def _database_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        return create_engine(settings.database_url)
    return create_engine(
        settings.database_url, connect_args={"connect_timeout": DB_CONNECT_TIMEOUT_SECONDS}, pool_pre_ping=True
    )


def check_database(settings: Settings) -> tuple[list[Check], Engine | None]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from shared.migrate import alembic_config

    if settings.is_sqlite:
        database = make_url(settings.database_url).database
        if database and database != ":memory:" and not Path(database).exists():
            return [
                fail(
                    "database",
                    f"no SQLite file at {database}",
                    "run `meetings migrate` (it creates it), or set DATABASE_URL",
                )
            ], None
    engine = _database_engine(settings)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        engine.dispose()
        cause: BaseException = getattr(error, "orig", None) or error
        reason = describe_error(cause, settings).splitlines()[0]
        return [
            fail(
                "database",
                f"cannot connect: {reason}",
                "check DATABASE_URL (host, port, user, password) and that the server is running",
            )
        ], None
    head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
    if current != head:
        found = current or "no schema"
        return [
            ok("database", "reachable"),
            fail("migrations", f"the schema is at {found}, the code needs {head}", "run `meetings migrate`"),
        ], engine
    return [ok("database", "reachable"), ok("migrations", f"the schema is at the head ({head})")], engine


def check_outbox(session: Session, *, now: datetime) -> list[Check]:
    health = outbox_health(session, now=now)
    pending = sum(item.pending for item in health.values())
    failed = sum(item.failed for item in health.values())
    oldest = max(health.values(), key=lambda item: item.oldest_due_seconds, default=None)
    stale = {kind: item.stale_claimed for kind, item in health.items() if item.stale_claimed}
    checks = []
    summary = f"{pending} pending, {failed} failed"
    if oldest is not None and oldest.oldest_due_seconds > BACKLOG_LIMIT_SECONDS:
        checks.append(
            fail(
                "outbox",
                f"{summary}; the oldest due job ({oldest.kind}) has waited {oldest.oldest_due_seconds:.0f} s",
                "start `meetings worker` (or more of them) and look at its log for the reason",
            )
        )
    else:
        waited = f"; oldest due job waited {oldest.oldest_due_seconds:.0f} s" if oldest and oldest.due else ""
        checks.append(ok("outbox", f"{summary}{waited}"))
    if stale:
        listed = ", ".join(f"{count} {kind}" for kind, count in sorted(stale.items()))
        checks.append(
            fail(
                "outbox claims",
                f"claimed by a worker whose lease expired: {listed}; they run again at the next claim",
                "make sure a worker is running; a worker that lost the database logs 'recording its outcome failed'",
            )
        )
    else:
        checks.append(ok("outbox claims", "no stale claims"))
    return checks


def check_reconnects(session: Session) -> list[Check]:
    rows = session.execute(
        select(Agent.id, Agent.name)
        .join(CalendarConnection, CalendarConnection.agent_id == Agent.id)
        .where(CalendarConnection.status == STATUS_NEEDS_RECONNECT)
        .order_by(Agent.id)
    ).all()
    if not rows:
        return [ok("Google connections", "no agent needs to reconnect")]
    names = ", ".join(f"{name} (#{agent_id})" for agent_id, name in rows)
    return [
        fail(
            "Google connections",
            f"{len(rows)} agent(s) must reconnect Google Calendar: {names}; their calendar writes wait",
            "each of them signs in to the dashboard and reconnects on the Calendars page",
        )
    ]


def run_checks(clock: Callable[[], datetime] = utcnow) -> Iterator[Check]:
    settings, checks = load_settings()
    yield from checks
    yield from check_secrets(settings)
    yield from check_base_url(settings)
    yield from check_google(settings)
    yield from check_embed_origins(settings)
    yield from check_smtp(settings)
    database, engine = check_database(settings)
    yield from database
    if engine is None or any(check.status == "FAIL" for check in database):
        yield skip("outbox", "not checked: the database is not ready")
        yield skip("Google connections", "not checked: the database is not ready")
        if engine is not None:
            engine.dispose()
        return
    try:
        with Session(engine) as session:
            yield from check_outbox(session, now=clock())
            yield from check_reconnects(session)
    finally:
        engine.dispose()


def run_doctor(out: TextIO | None = None) -> int:
    """Print every check, one per line; 1 when any failed."""
    out = out or sys.stdout
    failed = 0
    for check in run_checks():
        print(check.line(), file=out, flush=True)
        failed += check.status == "FAIL"
    print(f"{failed} problem(s) found." if failed else "Everything checked is fine.", file=out)
    return 1 if failed else 0

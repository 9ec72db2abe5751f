"""`meetings doctor` (SPEC §17): one line per check, exit 0 on a good configuration, 1 naming each broken setting.

Run as the operator runs it (`python -m meetings.cli doctor`, configuration in the environment),
against real databases and a real aiosmtpd server that checks AUTH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import CalendarConnection, OutboxJob, utcnow
from shared.models.calendar import STATUS_NEEDS_RECONNECT
from shared.models.outbox import JOB_RUNNING
from tests.cli.conftest import empty_database_url
from tests.factories import committed_agent
from tests.live import free_port
from tests.notifications.conftest import SMTP_PASSWORD_IN_URL, SMTP_USER, StartSmtp, start_smtp, tls_files
from tests.outbox.helpers import add_jobs

__all__ = ["empty_database_url", "start_smtp", "tls_files"]  # fixtures used by the tests below

BASE_URL = "https://meetings.example.com"
SECRET_KEY = "a-real-secret-key-0123456789abcdef"
ADMIN_TOKEN = "a-real-admin-token-0123456789"
DB_PASSWORD = "db-pass-never-printed"


@dataclass
class Report:
    code: int
    lines: list[str]

    def line(self, name: str) -> str:
        found = [line for line in self.lines if line.split(" ", 1)[1].strip().startswith(f"{name}:")]
        assert len(found) == 1, (name, self.lines)
        return found[0]

    def status(self, name: str) -> str:
        return self.line(name).split()[0]


def good_environment(database_url: str, smtp_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "MEETINGS_ENV": "production",
        "MEETINGS_BASE_URL": BASE_URL,
        "MEETINGS_SECRET_KEY": SECRET_KEY,
        "MEETINGS_ADMIN_TOKEN": ADMIN_TOKEN,
        "MEETINGS_EMBED_ORIGINS": "https://app.example.com,http://localhost:3000",
        "GOOGLE_CLIENT_ID": "client-id.apps.googleusercontent.com",
        "GOOGLE_CLIENT_SECRET": "google-client-secret-value",
        "GOOGLE_REDIRECT_URI": f"{BASE_URL}/oauth/google/callback",
        "SMTP_URL": smtp_url,
    }


def doctor(environment: dict[str, str]) -> Report:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEETINGS_", "GOOGLE_", "SMTP_", "DATABASE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "meetings.cli", "doctor"],
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    checks = [line for line in lines if line.split(" ", 1)[0] in ("OK", "FAIL", "SKIP")]
    assert checks == lines[:-1], done.stdout + done.stderr  # every line but the summary is one check
    return Report(code=done.returncode, lines=checks)


EVERY_CHECK = [
    "settings",
    "MEETINGS_SECRET_KEY",
    "MEETINGS_ADMIN_TOKEN",
    "MEETINGS_BASE_URL",
    "Google",
    "GOOGLE_REDIRECT_URI",
    "MEETINGS_EMBED_ORIGINS",
    "SMTP",
    "database",
    "migrations",
    "outbox",
    "outbox claims",
    "Google connections",
]


def test_a_good_production_configuration_passes_every_check(database_url: str, start_smtp: StartSmtp) -> None:
    smtp = start_smtp("auth")
    report = doctor(good_environment(database_url, smtp.url))
    assert report.code == 0, report.lines
    assert [line.split(" ", 1)[1].split(":")[0].strip() for line in report.lines] == EVERY_CHECK
    assert all(line.startswith("OK ") for line in report.lines), report.lines
    assert "AUTH accepted" in report.line("SMTP")
    assert smtp.recorder.received == []  # EHLO and AUTH only: no mail was sent


def test_a_broken_configuration_names_each_broken_setting(start_smtp: StartSmtp) -> None:
    smtp = start_smtp("auth")
    wrong_password = smtp.url.replace(SMTP_PASSWORD_IN_URL, "not-the-password")
    assert f"{SMTP_USER}:not-the-password@" in wrong_password
    unreachable = f"postgresql+psycopg://meetings:{DB_PASSWORD}@127.0.0.1:{free_port()}/meetings"
    environment = {
        **good_environment(unreachable, wrong_password),
        "MEETINGS_SECRET_KEY": "dev-secret-key-change-me",
        "GOOGLE_REDIRECT_URI": "https://old-host.example.com/oauth/google/callback",
        "MEETINGS_EMBED_ORIGINS": "https://app.example.com/widget",
    }
    report = doctor(environment)
    assert report.code == 1
    assert report.status("MEETINGS_SECRET_KEY") == "FAIL"
    assert "placeholder" in report.line("MEETINGS_SECRET_KEY")
    assert report.status("MEETINGS_ADMIN_TOKEN") == "OK"
    assert report.status("GOOGLE_REDIRECT_URI") == "FAIL"
    assert f"GOOGLE_REDIRECT_URI={BASE_URL}/oauth/google/callback" in report.line("GOOGLE_REDIRECT_URI")
    assert report.status("MEETINGS_EMBED_ORIGINS") == "FAIL"
    assert report.status("SMTP") == "FAIL"
    assert "535" in report.line("SMTP")  # the server's own refusal of the credentials
    assert report.status("database") == "FAIL"
    assert "cannot connect" in report.line("database")
    assert report.status("outbox") == "SKIP"
    for line in report.lines:
        if line.startswith("FAIL"):
            assert "Fix:" in line, line  # each problem says how to fix it
    text = "\n".join(report.lines)
    assert DB_PASSWORD not in text
    assert "not-the-password" not in text


def test_the_database_state_checks_name_backlog_stale_claims_and_reconnects(
    database_url: str, db: sessionmaker[Session]
) -> None:
    now = utcnow()
    agent_id, _, _ = committed_agent(db, name="Grace Hopper")
    add_jobs(db, "email.send", [{"n": 1}], run_at=now - timedelta(hours=1))
    (stale,) = add_jobs(db, "calendar.sync", [{"n": 2}], run_at=now - timedelta(minutes=5))
    with session_scope(db) as session:
        session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == stale)
            .values(status=JOB_RUNNING, locked_by="gone:1:abc", locked_until=now - timedelta(minutes=1))
        )
        session.add(CalendarConnection(agent_id=agent_id, status=STATUS_NEEDS_RECONNECT))
    report = doctor({"DATABASE_URL": database_url, "MEETINGS_ENV": "development"})
    assert report.code == 1
    assert report.status("database") == "OK"
    assert report.status("migrations") == "OK"
    assert report.status("outbox") == "FAIL"
    assert "email.send" in report.line("outbox")
    assert report.status("outbox claims") == "FAIL"
    assert "1 calendar.sync" in report.line("outbox claims")
    assert report.status("Google connections") == "FAIL"
    assert "Grace Hopper" in report.line("Google connections")
    # Development placeholders are fine outside production.
    assert report.status("MEETINGS_SECRET_KEY") == "OK"


def test_a_database_without_the_schema_is_told_to_migrate(empty_database_url: str) -> None:
    if empty_database_url.startswith("sqlite"):
        report = doctor({"DATABASE_URL": empty_database_url})
        assert report.status("database") == "FAIL"
        assert "meetings migrate" in report.line("database")
        return
    report = doctor({"DATABASE_URL": empty_database_url})
    assert report.code == 1
    assert report.status("database") == "OK"
    assert report.status("migrations") == "FAIL"
    assert "meetings migrate" in report.line("migrations")

"""One log format for every process (SPEC §17): in production each line on stderr is one JSON object
with time, level, logger and message; text in development; both scrubbed."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.models import utcnow
from shared.observability.context import job_log_context
from shared.observability.logs import ContextFilter, TextFormatter
from tests.live import free_port
from tests.outbox.helpers import add_jobs, load_job

PRODUCTION = {
    "MEETINGS_ENV": "production",
    "MEETINGS_SECRET_KEY": "a-real-secret-key-0123456789abcdef",
    "MEETINGS_ADMIN_TOKEN": "a-real-admin-token-0123456789",
}
FIELDS = {"time", "level", "logger", "message"}


def _environment(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEETINGS_", "DATABASE_", "PROMETHEUS_"))}
    return {**clean, **PRODUCTION, **extra}


def json_lines(text: str) -> list[dict[str, Any]]:
    entries = []
    for line in text.splitlines():
        if line.strip():
            entry = json.loads(line)  # fails the test on any line that is not JSON
            assert entry.keys() >= FIELDS, entry
            entries.append(entry)
    return entries


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the process exited"
        assert time.monotonic() < deadline, f"{url} did not answer"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)


@pytest.mark.slow
def test_every_process_of_the_demo_logs_json_lines_in_production(tmp_path: Path) -> None:
    """`meetings demo` runs the demo itself, the API, a worker and the dashboard launcher: one stderr."""
    port, dashboard_port = free_port(), free_port()
    database = tmp_path / "meetings.db"
    env = _environment(DATABASE_URL=f"sqlite:///{database}")
    command = [
        sys.executable,
        "-m",
        "meetings.cli",
        "demo",
        "--port",
        str(port),
        "--dashboard-port",
        str(dashboard_port),
    ]
    log_path = tmp_path / "stderr.log"
    with log_path.open("wb") as stderr:
        demo = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            _wait_for(f"http://127.0.0.1:{port}/healthz", demo, timeout=300)  # after seeding the demo
            _wait_for(f"http://127.0.0.1:{dashboard_port}/_stcore/health", demo)
            httpx.get(f"http://127.0.0.1:{port}/api/v1/links/no-such-link-0123456789")
            time.sleep(2)  # the worker polls at least once
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait(timeout=60)
    entries = json_lines(log_path.read_text())
    loggers = {entry["logger"] for entry in entries}
    assert "meetings.access" in loggers  # the API
    assert "meetings.worker" in loggers  # the worker
    assert "meetings.dashboard" in loggers  # the dashboard launcher
    assert "uvicorn.error" in loggers  # uvicorn itself, through our formatter
    access = [e for e in entries if e["logger"] == "meetings.access"]
    assert {"/healthz", "/api/v1/links/{link}"} <= {e["path"] for e in access}
    assert all(e.get("request_id") for e in access)
    assert "no-such-link-0123456789" not in log_path.read_text()


def test_the_worker_logs_json_with_the_job_id_in_production(database_url: str, db: sessionmaker[Session]) -> None:
    (job_id,) = add_jobs(db, "no.such.kind", [{"to": "ada.lovelace@example.com"}], run_at=utcnow())
    done = subprocess.run(
        [sys.executable, "-m", "meetings.cli", "worker", "--once"],
        env=_environment(DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    entries = json_lines(done.stderr)
    ran = [e for e in entries if e.get("job_id") == job_id]
    assert ran, entries
    assert all(e["logger"] == "meetings.worker" and e["level"] in ("info", "warning") for e in ran)
    assert load_job(db, job_id).status == "failed"  # unknown kind: failed, and logged as such


def test_text_in_development_carries_the_same_fields_and_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("meetings.test")
    with caplog.at_level(logging.INFO), job_log_context(job_id=7, agent_id=3):
        logger.info("sent to ada.lovelace@example.com with Authorization: Bearer abc.def-123")
        record = caplog.records[-1]
        ContextFilter().filter(record)  # what the process's handler does with every record
    line = TextFormatter().format(record)
    assert " INFO meetings.test: sent to a***@example.com" in line
    assert "job_id=7" in line
    assert "agent_id=3" in line
    assert "abc.def-123" not in line
    assert "ada.lovelace" not in line


def test_log_format_defaults_follow_the_environment() -> None:
    from shared.settings import Settings

    assert Settings(environment="development").effective_log_format == "text"
    assert Settings(environment="test").effective_log_format == "json"
    production = Settings(environment="production", secret_key="x" * 32, admin_token="y" * 32)
    assert production.effective_log_format == "json"
    assert Settings(environment="development", log_format="json").effective_log_format == "json"

"""Request logs: JSON lines with a request id and the route template; no tokens, links, e-mails or Authorization."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.observability.logs import JsonFormatter
from shared.redaction import mask_email, scrub_log_text
from tests.conftest import ADMIN_TOKEN
from tests.factories import committed_agent
from tests.hardening.conftest import booking_body

EMAIL = "ada.lovelace@example.com"
EVERY_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _secrets_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked into the logs"


def test_each_request_logs_one_json_line_with_the_route_template(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, link, types = committed_agent(db)
    caplog.set_level(logging.INFO)
    created = client.post(
        f"/api/v1/links/{link}/bookings",
        json=booking_body(types["Demo"], "2026-06-02T09:00:00+02:00", email=EMAIL),
        headers={"X-Request-ID": "req-42.a"},
    )
    assert created.status_code == 201
    assert created.headers["x-request-id"] == "req-42.a"
    token = created.json()["manage_url"].rsplit("/", 1)[1]
    client.get(f"/api/v1/bookings/{token}")
    client.get(f"/api/v1/bookings/{token}/ics", headers={"Authorization": "Bearer visitor-secret-abc"})
    client.get(f"/manage/{token}")
    client.get(f"/b/{link}")
    client.get(f"/api/v1/bookings/{token}/no-such-thing")
    client.get("/api/v1/admin/agents", headers=admin_headers)
    client.get("/api/v1/admin/agents", headers={"Authorization": "Bearer wrong-token-value-123"})
    client.get(f"/api/v1/admin/contacts?email={EMAIL}", headers=admin_headers)

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    requests = [e for e in entries if e["logger"] == "meetings.access"]
    assert [(r["method"], r["path"]) for r in requests] == [
        ("POST", "/api/v1/links/{link}/bookings"),
        ("GET", "/api/v1/bookings/{manage_token}"),
        ("GET", "/api/v1/bookings/{manage_token}/ics"),
        ("GET", "/manage/{manage_token}"),
        ("GET", "/b/{link}"),
        ("GET", "<unmatched>"),
        ("GET", "/api/v1/admin/agents"),
        ("GET", "/api/v1/admin/agents"),
        ("GET", "/api/v1/admin/contacts"),
    ]
    assert requests[0]["request_id"] == "req-42.a"
    assert requests[0]["status"] == 201
    assert requests[-2]["status"] in (401, 403)
    ids = [r["request_id"] for r in requests[1:]]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 for i in ids)  # generated when the client sent none
    assert all(isinstance(r["duration_ms"], float) and r["duration_ms"] >= 0 for r in requests)
    _secrets_absent("\n".join(lines), token, link, EMAIL, ADMIN_TOKEN, "visitor-secret-abc", "wrong-token-value-123")


def test_a_malformed_request_id_is_replaced(client: TestClient) -> None:
    for bad in (b"has spaces", b"x" * 65, b'quote"d', "\u00e9t\u00e9".encode("latin-1"), b"a\tb"):
        echoed = client.get("/healthz", headers={"X-Request-ID": bad})
        assert echoed.headers["x-request-id"].encode("latin-1") != bad
        assert len(echoed.headers["x-request-id"]) == 32


def test_scrub_masks_emails_and_removes_credentials() -> None:
    assert mask_email("write to ada.lovelace@example.com today") == "write to a***@example.com today"
    assert scrub_log_text("Authorization: Bearer abc.def-123") == "Authorization: Bearer [redacted]"
    assert scrub_log_text("{'authorization': 'Basic dXNlcjpwYXNz'}") == "{'authorization': 'Basic [redacted]'}"
    assert scrub_log_text("GET /api/v1/bookings/AbCdEf0123456789xyz/ics") == "GET /api/v1/bookings/[redacted]/ics"
    assert scrub_log_text("see /manage/AbCdEf0123456789xyz") == "see /manage/[redacted]"
    assert scrub_log_text("/api/v1/bookings/{manage_token}") == "/api/v1/bookings/{manage_token}"


def test_every_record_is_scrubbed_whatever_logged_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("meetings.test").info("booked for %s", EMAIL, extra={"contact": {"email": EMAIL}})
    try:
        raise RuntimeError(f"INSERT failed with parameters ('{EMAIL}',)")
    except RuntimeError:
        logging.getLogger("meetings.test").exception("database error")
    lines = [JsonFormatter().format(record) for record in caplog.records]
    entries = [json.loads(line) for line in lines]
    assert entries[0]["message"] == "booked for a***@example.com"
    assert entries[0]["contact"] == {"email": "a***@example.com"}
    assert "a***@example.com" in entries[1]["exception"]
    _secrets_absent("\n".join(lines), EMAIL)


@pytest.mark.slow
def test_the_server_process_writes_json_lines_without_secrets(
    database_url: str, db: sessionmaker[Session], tmp_path: Path
) -> None:
    """The real entry point (uvicorn --factory app_factory) at --log-level info, stderr captured."""
    _, link, types = committed_agent(db, weekly=EVERY_DAY, min_notice_minutes=0)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    # The test binds the port and hands uvicorn the socket (--fd): no other server can answer instead.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {**os.environ, "DATABASE_URL": database_url, "MEETINGS_BASE_URL": base_url, "MEETINGS_ENV": "test"}
    env["MEETINGS_ADMIN_TOKEN"] = ADMIN_TOKEN
    log_path = tmp_path / "server.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "widget_api.app:app_factory"]
    command += ["--fd", str(listener.fileno()), "--log-level", "info"]
    with listener, log_path.open("wb") as log_file:
        server = subprocess.Popen(command, env=env, stderr=log_file, stdout=log_file, pass_fds=[listener.fileno()])
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
            with httpx.Client(base_url=base_url, timeout=10) as http:
                body = booking_body(types["Demo"], start.isoformat(), email=EMAIL)
                created = http.post(f"/api/v1/links/{link}/bookings", json=body)
                token = created.json()["manage_url"].rsplit("/", 1)[1] if created.status_code == 201 else "none"
                http.get(f"/api/v1/bookings/{token}")
                http.get(f"/manage/{token}?month={start:%Y-%m}")
                http.get("/api/v1/admin/agents", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert created.status_code == 201, created.text
    text = log_path.read_text()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    paths = [e["path"] for e in entries if e.get("logger") == "meetings.access"]
    assert "/api/v1/links/{link}/bookings" in paths
    assert "/manage/{manage_token}" in paths
    assert all(e.get("logger") != "uvicorn.access" for e in entries)  # it would print raw paths
    _secrets_absent(text, token, link, EMAIL, ADMIN_TOKEN)

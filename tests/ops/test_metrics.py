"""GET /metrics (SPEC §17): off by default, behind the admin token, counters that move by the right amounts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import OutboxJob
from shared.models.outbox import JOB_RUNNING
from tests.booking.test_contention import ALL_DAY, _tomorrow_at
from tests.conftest import ADMIN_TOKEN, DEFAULT_NOW
from tests.factories import committed_agent
from tests.live import free_port
from tests.ops.conftest import ADMIN, Samples, booking_flow, parse_metrics, scrape, value
from tests.outbox.helpers import add_jobs

FIRST = "2026-06-02T09:00:00+02:00"
SECOND = "2026-06-02T10:00:00+02:00"
BOOKING_ROUTE = "/api/v1/links/{link}/bookings"


def test_metrics_are_not_served_unless_enabled(client: TestClient) -> None:
    assert client.get("/metrics", headers=ADMIN).status_code == 404


def test_metrics_need_the_admin_bearer_token(metrics_client: TestClient) -> None:
    assert metrics_client.get("/metrics").status_code == 401
    assert metrics_client.get("/metrics", headers={"Authorization": "Basic abc"}).status_code == 401
    assert metrics_client.get("/metrics", headers={"Authorization": "Bearer not-the-token"}).status_code == 403
    assert metrics_client.get("/metrics", headers=ADMIN).status_code == 200


def _moved(before: Samples, after: Samples, metric: str, /, **labels: str) -> float:
    return value(after, metric, **labels) - value(before, metric, **labels)


def assert_flow_counted(before: Samples, after: Samples, *, link: str, token: str) -> None:
    for name in ("calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step", "calendar_4th_step_submit"):
        assert _moved(before, after, "meetings_step_events_total", name=name) == 1, name
    for outcome in ("created", "refused", "rescheduled", "cancelled"):
        assert _moved(before, after, "meetings_bookings_total", outcome=outcome) == 1, outcome
    assert _moved(before, after, "meetings_booking_refusals_total", reason="slot_unavailable") == 1
    requests = "meetings_http_requests_total"
    assert _moved(before, after, requests, route=BOOKING_ROUTE, method="POST", status="201") == 1
    assert _moved(before, after, requests, route=BOOKING_ROUTE, method="POST", status="409") == 1
    assert _moved(before, after, requests, route="/api/v1/events", method="POST", status="202") == 3
    cancel = "/api/v1/bookings/{manage_token}/cancel"
    assert _moved(before, after, requests, route=cancel, method="POST", status="200") == 1
    durations = "meetings_http_request_duration_seconds_count"
    assert _moved(before, after, durations, route=BOOKING_ROUTE, method="POST") == 2
    # Route templates only: a link or a manage token is a credential and never becomes a label.
    labels = {v for (_, pairs) in after for _, v in pairs}
    assert link not in " ".join(labels)
    assert token not in " ".join(labels)


def test_a_booking_flow_moves_the_counters_by_the_right_amounts(
    metrics_client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    before = scrape(metrics_client)
    token = booking_flow(metrics_client, link=link, meeting_type_id=types["Demo"], first=FIRST, second=SECOND)
    after = scrape(metrics_client)
    assert_flow_counted(before, after, link=link, token=token)


def test_outbox_gauges_show_the_backlog_its_age_and_stale_claims(
    metrics_client: TestClient, db: sessionmaker[Session]
) -> None:
    now = DEFAULT_NOW  # the app's pinned clock
    add_jobs(db, "email.send", [{"n": 1}, {"n": 2}], run_at=now - timedelta(minutes=10))
    add_jobs(db, "email.send", [{"n": 3}], run_at=now + timedelta(hours=1))  # pending, not yet due
    (stale,) = add_jobs(db, "calendar.sync", [{"n": 4}], run_at=now - timedelta(minutes=5))
    with session_scope(db) as session:
        session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == stale)
            .values(status=JOB_RUNNING, locked_by="gone:1:abc", locked_until=now - timedelta(seconds=30))
        )
    samples = scrape(metrics_client)
    assert value(samples, "meetings_outbox_pending_jobs", kind="email.send") == 3
    assert value(samples, "meetings_outbox_oldest_due_seconds", kind="email.send") == pytest.approx(600, abs=1)
    assert value(samples, "meetings_outbox_stale_claimed_jobs", kind="calendar.sync") == 1
    assert value(samples, "meetings_outbox_stale_claimed_jobs", kind="email.send") == 0
    assert value(samples, "meetings_database_up") == 1


@contextmanager
def meetings_serve(database_url: str, *, workers: int, metrics_dir: Path) -> Iterator[str]:
    """`meetings serve --workers N` with metrics on, as an operator starts it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEETINGS_BASE_URL": base_url,
        "MEETINGS_ENV": "test",
        "MEETINGS_ADMIN_TOKEN": ADMIN_TOKEN,
        "MEETINGS_METRICS_ENABLED": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    command = [sys.executable, "-m", "meetings.cli", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "meetings serve exited"
            assert time.monotonic() < deadline, "meetings serve did not start"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_two_api_processes_report_one_sum(database_url: str, db: sessionmaker[Session], tmp_path: Path) -> None:
    _, link, types = committed_agent(db, weekly=ALL_DAY, min_notice_minutes=0)
    first, second = _tomorrow_at(10), _tomorrow_at(11)
    metrics_dir = tmp_path / "metrics"
    (metrics_dir / "counter_999999.db").parent.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier run")  # emptied at start
    with meetings_serve(database_url, workers=2, metrics_dir=metrics_dir) as base_url:
        # A new connection per request, so the kernel deals them to both processes.
        def fresh() -> httpx.Client:
            return httpx.Client(base_url=base_url, timeout=30, headers={"Connection": "close"})

        with fresh() as http:
            before = scrape(http)
            token = booking_flow(
                http, link=link, meeting_type_id=types["Demo"], first=first.isoformat(), second=second.isoformat()
            )
            for _ in range(40):
                assert http.get("/healthz").status_code == 200
            scrapes = [scrape(http) for _ in range(6)]
    pids = {path.stem.split("_")[-1] for path in metrics_dir.glob("counter_*.db")}
    assert "999999" not in pids
    assert len(pids) == 2, f"both API processes should have counted requests: {sorted(pids)}"
    for after in scrapes:  # whichever process answers, the sum is over both
        assert_flow_counted(before, after, link=link, token=token)
        healthz = value(after, "meetings_http_requests_total", route="/healthz", method="GET", status="200")
        assert healthz >= 40
    assert len({value(s, "meetings_bookings_total", outcome="created") for s in scrapes}) == 1


def test_the_grafana_dashboard_uses_only_metrics_that_exist(metrics_client: TestClient) -> None:
    import json
    import re

    from prometheus_client.parser import text_string_to_metric_families

    text = metrics_client.get("/metrics", headers=ADMIN).text
    served = set()
    for family in text_string_to_metric_families(text):
        served |= {family.name + suffix for suffix in ("", "_total", "_bucket", "_count", "_sum")}
    dashboard = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for name in re.findall(r"\bmeetings_[a-z_]+", target["expr"])
    }
    assert used, "the dashboard queries no metric"
    assert used <= served, sorted(used - served)


def test_the_worker_serves_its_own_counters_on_its_metrics_port(database_url: str, db: sessionmaker[Session]) -> None:
    from shared.models import utcnow

    (job_id,) = add_jobs(db, "no.such.kind", [{"n": 1}], run_at=utcnow())
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "MEETINGS_ENV": "test", "MEETINGS_WORKER_POLL_SECONDS": "0.2"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "meetings.cli", "worker", "--metrics-port", str(port)]
    worker = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker's metrics never showed the job"
            try:
                samples = parse_metrics(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if value(samples, "meetings_outbox_job_attempts_total", kind="no.such.kind", outcome="failed") == 1:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert value(samples, "meetings_outbox_failed_jobs", kind="no.such.kind") == 1
    assert value(samples, "meetings_outbox_pending_jobs", kind="no.such.kind") == 0
    assert job_id

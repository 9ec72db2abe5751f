"""The `meetings` console script, run as a user runs it: a real process against a real database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shared.auth.passwords import verify_password
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.demo import demo_counts
from shared.models import Agent, Booking, Event, OutboxJob, utcnow
from shared.settings import Settings
from tests.live import free_port
from widget_api.app import create_app

MEETINGS = str(Path(sys.executable).parent / "meetings")
STEPS = ("calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step", "calendar_4th_step_submit")


def meetings(*args: str, database_url: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MEETINGS_ENV": "development"}
    env.pop("MEETINGS_BASE_URL", None)
    return subprocess.run(
        [MEETINGS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def counts(settings: Settings) -> dict[str, int]:
    engine = build_engine(settings)
    try:
        with session_scope(build_sessionmaker(engine)) as session:
            result = demo_counts(session)
            for step in STEPS:
                result[step] = (
                    session.scalar(select(func.count(func.distinct(Event.session_id))).where(Event.name == step)) or 0
                )
            result["cancelled"] = (
                session.scalar(select(func.count()).select_from(Booking).where(Booking.status == "cancelled")) or 0
            )
            manager = session.scalar(select(Agent).where(Agent.email == "manager@example.com"))
            assert manager is not None
            assert manager.role == "manager"
            assert verify_password("demo", manager.password_hash)
            # Jobs that should have run by now; reminders of the demo's future calls wait for their time.
            not_yet_due = (OutboxJob.status == "pending") & (OutboxJob.next_attempt_at > utcnow())
            result["pending_jobs"] = (
                session.scalar(
                    select(func.count()).select_from(OutboxJob).where(OutboxJob.status != "done", ~not_yet_due)
                )
                or 0
            )
            return result
    finally:
        engine.dispose()


def test_migrate_then_demo_seeds_once_and_its_link_offers_slots(empty_database_url: str, tmp_path: Path) -> None:
    migrated = meetings("migrate", database_url=empty_database_url, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr

    first = meetings("demo", "--no-run", database_url=empty_database_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Seeded demo data" in first.stdout
    for expected in (
        "http://127.0.0.1:8000/demo/chat",
        "http://127.0.0.1:8000/docs",
        "http://127.0.0.1:8501",
        "manager@example.com / demo",
        "ola@example.com / demo",
    ):
        assert expected in first.stdout, first.stdout
    link = re.search(r"http://127\.0\.0\.1:8000/b/(\S+)", first.stdout)
    assert link is not None, first.stdout

    settings = Settings(database_url=empty_database_url, environment="test")
    seeded = counts(settings)
    assert seeded["agents"] == 4
    assert seeded[STEPS[0]] >= 300  # several hundred widget sessions…
    funnel = [seeded[step] for step in STEPS]
    assert funnel == sorted(funnel, reverse=True)  # …each step reached by fewer of them
    assert funnel[3] == seeded["bookings"] >= 100
    assert seeded["cancelled"] > 0

    again = meetings("demo", "--no-run", database_url=empty_database_url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing was added" in again.stdout
    assert f"/b/{link.group(1)}" in again.stdout
    assert counts(settings) == seeded

    with TestClient(create_app(settings)) as client:
        agent = client.get(f"/api/v1/links/{link.group(1)}").json()
        assert agent["agent"] == {"name": "Ola Nowak", "timezone": "Europe/Warsaw"}
        demo = next(m for m in agent["meeting_types"] if m["name"] == "Demo")
        days: list[str] = []
        month = date.today().replace(day=1)
        for _ in range(2):
            days += client.get(
                f"/api/v1/links/{link.group(1)}/days",
                params={"meeting_type_id": demo["id"], "month": month.strftime("%Y-%m"), "tz": "Europe/Warsaw"},
            ).json()["days"]
            month = (month + timedelta(days=32)).replace(day=1)
        assert days
        slots = client.get(
            f"/api/v1/links/{link.group(1)}/slots",
            params={"meeting_type_id": demo["id"], "date": days[0], "tz": "Europe/Warsaw"},
        ).json()["slots"]
        assert slots
        assert all(s["start"].startswith(days[0]) for s in slots)

    worked = meetings("worker", "--once", database_url=empty_database_url, cwd=tmp_path)
    assert worked.returncode == 0, worked.stderr
    assert counts(settings)["pending_jobs"] == 0  # the demo's booking emails went out


def test_serve_runs_several_api_processes_and_stops_on_sigterm(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    assert meetings("migrate", database_url=database_url, cwd=tmp_path).returncode == 0
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    server = subprocess.Popen(
        [MEETINGS, "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"], cwd=tmp_path, env=env
    )
    try:
        for _ in range(150):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "the server exited"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"] == "Meetings"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0  # a clean shutdown
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = meetings("--help", database_url="sqlite://", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "worker", "dashboard", "demo", "migrate"):
        assert command in result.stdout

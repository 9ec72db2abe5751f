"""Per-client rate limits on the public API: 429 + Retry-After, shared by every process on the database."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, Event, RateLimitHit
from shared.settings import Settings
from tests.conftest import DEFAULT_NOW, Clock
from tests.factories import committed_agent
from tests.hardening.conftest import ClientFactory, booking_body
from tests.live import running_api
from widget_api.app import create_app
from widget_api.ratelimit.limiter import limits_enabled

SLOTS = [f"2026-06-02T{hour:02d}:{minute:02d}:00+02:00" for hour in range(9, 17) for minute in (0, 30)]


def _count(db: sessionmaker[Session], model: type[Booking] | type[Event]) -> int:
    with session_scope(db) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _event(link: str, meeting_type_id: int) -> dict[str, object]:
    return {
        "visitor_id": "visitor-1",
        "session_id": "session-1",
        "link": link,
        "name": "calendar_1st_step",
        "meeting_type_id": meeting_type_id,
    }


def test_bookings_over_the_limit_get_429_with_retry_after_and_write_nothing(
    limited_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session], clock: Clock
) -> None:
    _, link, types = committed_agent(db)
    with make_client(limited_settings) as client:
        for start in SLOTS[:3]:
            assert (
                client.post(f"/api/v1/links/{link}/bookings", json=booking_body(types["Demo"], start)).status_code
                == 201
            )

        refused = client.post(f"/api/v1/links/{link}/bookings", json=booking_body(types["Demo"], SLOTS[3]))
        assert refused.status_code == 429
        assert refused.json() == {
            "detail": "too many requests: at most 3 booking changes per minute from one address; retry in 90 s"
        }
        assert refused.headers["Retry-After"] == "90"
        assert _count(db, Booking) == 3
        # Reads draw on their own allowance.
        assert client.get(f"/api/v1/links/{link}").status_code == 200

        clock.advance(timedelta(seconds=89))
        assert (
            client.post(f"/api/v1/links/{link}/bookings", json=booking_body(types["Demo"], SLOTS[3])).status_code == 429
        )
        clock.advance(timedelta(seconds=1))
        assert (
            client.post(f"/api/v1/links/{link}/bookings", json=booking_body(types["Demo"], SLOTS[3])).status_code == 201
        )
    assert _count(db, Booking) == 4


def test_cancel_and_reschedule_share_the_booking_allowance(
    limited_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    with make_client(limited_settings) as client:
        created = client.post(f"/api/v1/links/{link}/bookings", json=booking_body(types["Demo"], SLOTS[0])).json()
        token = created["manage_url"].rsplit("/", 1)[1]
        moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": SLOTS[1]})
        assert moved.status_code == 200, moved.text
        assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 200
        assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 429
        assert client.get(f"/api/v1/bookings/{token}").json()["status"] == "cancelled"


def test_reads_and_events_have_their_own_allowances(
    limited_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    with make_client(limited_settings) as client:
        reads = [client.get(f"/api/v1/links/{link}").status_code for _ in range(6)]
        assert reads == [200] * 5 + [429]
        events = [client.post("/api/v1/events", json=_event(link, types["Demo"])).status_code for _ in range(5)]
        assert events == [202] * 4 + [429]
        # Unlimited paths stay open to the same client.
        assert client.get("/healthz").status_code == 200
        assert client.get("/openapi.json").status_code == 200
    assert _count(db, Event) == 4


def test_two_app_instances_on_one_database_share_the_counters(
    limited_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    _, link, _ = committed_agent(db)
    with make_client(limited_settings) as first, make_client(limited_settings) as second:
        statuses = [(first if n % 2 == 0 else second).get(f"/api/v1/links/{link}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]
    with session_scope(db) as session:
        row = session.scalars(select(RateLimitHit)).one()
        assert (row.key, row.count) == ("reads:testclient", 6)


def test_clients_behind_a_trusted_proxy_are_counted_apart(
    limited_settings: Settings, db: sessionmaker[Session], clock: Clock
) -> None:
    _, link, _ = committed_agent(db)
    proxied = limited_settings.model_copy(update={"trusted_proxy": "10.0.0.0/8"})
    with TestClient(create_app(proxied, clock=clock), client=("10.1.2.3", 4000)) as via_proxy:
        for visitor in ("198.51.100.7", "198.51.100.8"):
            # The client may prepend anything; only the hop our proxy appended counts.
            headers = {"X-Forwarded-For": f"1.1.1.1, {visitor}"}
            statuses = [via_proxy.get(f"/api/v1/links/{link}", headers=headers).status_code for _ in range(6)]
            assert statuses == [200] * 5 + [429], visitor
    with TestClient(create_app(limited_settings, clock=clock), client=("203.0.113.5", 4000)) as direct:
        # Not behind a trusted proxy: a forged X-Forwarded-For changes nothing.
        statuses = [
            direct.get(f"/api/v1/links/{link}", headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code
            for n in range(6)
        ]
        assert statuses == [200] * 5 + [429]
    with session_scope(db) as session:
        keys = set(session.scalars(select(RateLimitHit.key)))
    assert keys == {"reads:198.51.100.7", "reads:198.51.100.8", "reads:203.0.113.5"}


def test_old_windows_are_pruned(
    limited_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    _, link, _ = committed_agent(db)
    with session_scope(db) as session:
        session.add(RateLimitHit(key="reads:192.0.2.1", window_start=DEFAULT_NOW - timedelta(hours=2), count=40))
        session.add(RateLimitHit(key="reads:192.0.2.1", window_start=DEFAULT_NOW - timedelta(minutes=5), count=2))
    with make_client(limited_settings) as client:
        assert client.get(f"/api/v1/links/{link}").status_code == 200
    with session_scope(db) as session:
        windows = sorted(session.scalars(select(RateLimitHit.window_start)))
    assert windows == [DEFAULT_NOW - timedelta(minutes=5), DEFAULT_NOW]


def test_limits_are_on_by_default_except_in_the_test_environment(
    monkeypatch: pytest.MonkeyPatch, client: TestClient, db: sessionmaker[Session]
) -> None:
    for name in ("MEETINGS_ENV", "MEETINGS_RATE_LIMIT_ENABLED", "MEETINGS_RATE_LIMIT_BOOKINGS_PER_MINUTE"):
        monkeypatch.delenv(name, raising=False)
    assert limits_enabled(Settings()) is True
    production = Settings(environment="production", admin_token="a" * 20, secret_key="b" * 20)
    assert limits_enabled(production) is True
    assert (
        production.rate_limit_bookings_per_minute,
        production.rate_limit_events_per_minute,
        production.rate_limit_reads_per_minute,
    ) == (10, 120, 300)
    assert limits_enabled(Settings(environment="test")) is False
    monkeypatch.setenv("MEETINGS_ENV", "test")
    monkeypatch.setenv("MEETINGS_RATE_LIMIT_ENABLED", "true")
    monkeypatch.setenv("MEETINGS_RATE_LIMIT_BOOKINGS_PER_MINUTE", "7")
    from_env = Settings()
    assert limits_enabled(from_env) is True
    assert from_env.rate_limit_bookings_per_minute == 7
    # The suite's default app (MEETINGS_ENV=test) is not limited: more than the default 10 booking tries.
    _, link, _ = committed_agent(db)
    tries = [client.post(f"/api/v1/links/{link}/bookings", json=booking_body(999_999, SLOTS[0])) for _ in range(12)]
    assert {response.status_code for response in tries} == {404}


def _wait_for_a_quiet_stretch_of_the_minute(needed_seconds: float) -> None:
    """Windows are real minutes on a real server: start a burst where it cannot straddle one."""
    second = datetime.now(UTC).second + datetime.now(UTC).microsecond / 1e6
    if second > 60 - needed_seconds:
        time.sleep(60.5 - second)


@pytest.mark.slow
def test_two_server_processes_share_the_read_allowance_within_the_documented_excess(
    database_url: str, db: sessionmaker[Session]
) -> None:
    _, link, _ = committed_agent(db)
    env = {"MEETINGS_RATE_LIMIT_ENABLED": "true", "MEETINGS_RATE_LIMIT_READS_PER_MINUTE": "20"}
    with ExitStack() as servers, ThreadPoolExecutor(max_workers=16) as pool:
        # Two separate server processes on the one database, started side by side.
        first, second = pool.map(lambda _: servers.enter_context(running_api(database_url, extra_env=env)), range(2))
        _wait_for_a_quiet_stretch_of_the_minute(5)
        with httpx.Client(timeout=30) as http:
            responses = list(pool.map(lambda n: http.get(f"{(first, second)[n % 2]}/api/v1/links/{link}"), range(60)))
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) == {200, 429}
    # Reads are counted in batches (widget_api.ratelimit.limiter): hits the other process holds unwritten
    # are invisible, and a process admits on its own view only up to half the allowance, so a burst
    # over two processes gets at most limit/2 more than the limit through — never fewer than the limit.
    assert 20 <= statuses[200] <= 20 + 20 // 2, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert "at most 20 reads per minute" in refused.json()["detail"]


def test_reads_are_counted_in_batches_and_decided_exactly_within_one_process(tmp_path: Path) -> None:
    """Batched read counting (widget_api.ratelimit.limiter): exact in one process, written within a flush interval."""
    from sqlalchemy import select

    from shared.db import build_engine
    from shared.migrate import upgrade_to_head
    from shared.models import RateLimitHit
    from shared.settings import Settings
    from widget_api.ratelimit.errors import RateLimited
    from widget_api.ratelimit.limiter import BOOKINGS, READS, RateLimiter, RateLimitPolicy

    url = f"sqlite:///{tmp_path / 'limits.db'}"
    upgrade_to_head(url)
    engine = build_engine(Settings(environment="test", database_url=url))
    ticks = [0.0]
    limiter = RateLimiter(
        engine=engine, policy=RateLimitPolicy(limits={READS: 10, BOOKINGS: 10}), monotonic=lambda: ticks[0]
    )
    now = datetime(2026, 6, 1, 10, 0, 5, tzinfo=UTC)

    def stored() -> int:
        with engine.connect() as connection:
            return sum(connection.scalars(select(RateLimitHit.count)))

    def read() -> str:
        try:
            if limiter.admit_locally(bucket=READS, client="192.0.2.1", now=now):
                return "local"
            limiter.hit(bucket=READS, client="192.0.2.1", now=now)
            return "db"
        except RateLimited:
            return "429"

    try:
        # First read of the window asks the database; then in process up to half the limit.
        assert [read() for _ in range(5)] == ["db", "local", "local", "local", "local"]
        assert stored() == 1
        # Past half the limit every read is decided by the database again: exactly 10 admitted.
        assert [read() for _ in range(6)] == ["db"] * 5 + ["429"]
        assert stored() == 11
        # Pending hits of an idle key are written on the next database trip after flush_interval, or flush().
        other = [limiter.admit_locally(bucket=READS, client="192.0.2.2", now=now) for _ in range(3)]
        assert other == [False, False, False]  # never synced yet: the caller must call hit()
        limiter.hit(bucket=READS, client="192.0.2.2", now=now)
        assert limiter.admit_locally(bucket=READS, client="192.0.2.2", now=now) is True
        assert stored() == 12
        ticks[0] += 1.5
        limiter.hit(bucket=READS, client="192.0.2.3", now=now)
        assert stored() == 14
        assert limiter.admit_locally(bucket=READS, client="192.0.2.3", now=now) is True
        limiter.flush()
        assert stored() == 15
        # Bookings stay strict: never admitted in process.
        assert limiter.admit_locally(bucket=BOOKINGS, client="192.0.2.1", now=now) is False
    finally:
        engine.dispose()

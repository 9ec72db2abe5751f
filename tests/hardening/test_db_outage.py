"""The database goes away: 503 with Retry-After and a clear message, and a booking is all or nothing.

Faults are real, not mocked: on PostgreSQL the test's database stops accepting connections and its
backends are terminated (or a backend kills itself from a trigger mid-booking or at COMMIT); on
SQLite the database file becomes unreachable (as when its volume goes away) and the process's
pooled connections are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, Contact, Event, OutboxJob
from shared.settings import Settings
from tests.factories import committed_agent
from tests.hardening.conftest import ClientFactory, booking_body
from tests.pg import ThrowawayPostgres

DOWN = {"detail": "the database is not answering; nothing was changed, please retry"}
START = "2026-06-02T09:00:00+02:00"
KILL_MYSELF = """
CREATE FUNCTION kill_own_backend() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_terminate_backend(pg_backend_pid());
  PERFORM pg_sleep(5);  -- the termination lands here, inside the transaction
  RETURN NEW;
END $$;
"""


def _counts(db: sessionmaker[Session]) -> dict[str, int]:
    with session_scope(db) as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Booking, Event, Contact, OutboxJob)
        }


def _database_name(database_url: str) -> str:
    return database_url.rsplit("/", 1)[1]


@contextmanager
def database_outage(request: pytest.FixtureRequest, database_url: str, engines: list[Engine]) -> Iterator[None]:
    if database_url.startswith("postgresql"):
        cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
        name = _database_name(database_url)
        cluster.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        cluster.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        try:
            yield
        finally:
            cluster.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        return
    path = Path(database_url.removeprefix("sqlite:///"))
    for engine in engines:
        engine.dispose()  # closing the last connection checkpoints the WAL into the file
    aside = path.with_name(path.name + ".unreachable")
    path.rename(aside)
    path.mkdir()  # a directory where the file was: every new connection fails to open it
    try:
        yield
    finally:
        path.rmdir()
        aside.rename(path)


def test_while_the_database_is_down_every_request_gets_503_and_nothing_is_written(
    request: pytest.FixtureRequest,
    database_url: str,
    limited_settings: Settings,
    make_client: ClientFactory,
    engine: Engine,
    db: sessionmaker[Session],
) -> None:
    _, link, types = committed_agent(db)
    before = _counts(db)
    body = booking_body(types["Demo"], START)
    with make_client(limited_settings) as client:
        assert client.get(f"/api/v1/links/{link}").status_code == 200  # pooled connections exist
        slots = {"meeting_type_id": types["Demo"], "date": "2026-06-02", "tz": "Europe/Warsaw"}
        assert client.get(f"/api/v1/links/{link}/slots", params=slots).status_code == 200  # a cached answer too
        state = client.app.state  # type: ignore[attr-defined]
        # On SQLite the slots/days cache is validated on the event loop's own connection (loop_engine).
        engines = [state.engine, engine, *([state.loop_engine] if state.loop_engine is not None else [])]
        with database_outage(request, database_url, engines):
            responses = [
                client.post(f"/api/v1/links/{link}/bookings", json=body, headers={"Idempotency-Key": "k-1"}),
                client.get(
                    f"/api/v1/links/{link}/slots",
                    params={"meeting_type_id": types["Demo"], "date": "2026-06-02", "tz": "Europe/Warsaw"},
                ),
                client.post(
                    "/api/v1/events",
                    json={"visitor_id": "v", "session_id": "s", "link": link, "name": "calendar_1st_step"},
                ),
                client.get("/healthz"),
            ]
            for response in responses:
                assert response.status_code == 503, response.text
                assert response.json() == DOWN
                assert response.headers["Retry-After"] == "5"
        assert client.get("/healthz").status_code == 200
        assert _counts(db) == before
        retried = client.post(f"/api/v1/links/{link}/bookings", json=body, headers={"Idempotency-Key": "k-1"})
        assert retried.status_code == 201, retried.text
    after = _counts(db)
    assert after["bookings"] == before["bookings"] + 1


@pytest.fixture
def postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a backend killing itself from a trigger needs PostgreSQL")


@pytest.mark.usefixtures("postgres_only")
def test_a_connection_lost_in_the_middle_of_a_booking_leaves_no_trace(
    request: pytest.FixtureRequest, database_url: str, client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
    name = _database_name(database_url)
    before = _counts(db)
    cluster.execute(KILL_MYSELF, database=name)
    # The booking row, the contact and the step event are already written when the outbox row goes in.
    cluster.execute(
        "CREATE TRIGGER die_mid_booking AFTER INSERT ON outbox_jobs FOR EACH ROW EXECUTE FUNCTION kill_own_backend()",
        database=name,
    )
    body = booking_body(types["Demo"], START)
    lost = client.post(f"/api/v1/links/{link}/bookings", json=body, headers={"Idempotency-Key": "k-2"})
    assert lost.status_code == 503, lost.text
    assert lost.json() == DOWN
    assert _counts(db) == before

    cluster.execute("DROP TRIGGER die_mid_booking ON outbox_jobs", database=name)
    retried = client.post(f"/api/v1/links/{link}/bookings", json=body, headers={"Idempotency-Key": "k-2"})
    assert retried.status_code == 201, retried.text
    after = _counts(db)
    assert after["bookings"] == 1
    assert after["outbox_jobs"] > 0


@pytest.mark.usefixtures("postgres_only")
def test_a_connection_lost_at_commit_is_not_reported_as_booked(
    request: pytest.FixtureRequest, database_url: str, client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    cluster: ThrowawayPostgres = request.getfixturevalue("postgres_cluster")
    name = _database_name(database_url)
    cluster.execute(KILL_MYSELF, database=name)
    # A deferred constraint trigger runs inside COMMIT, after every statement of the request succeeded.
    cluster.execute(
        "CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON bookings DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION kill_own_backend()",
        database=name,
    )
    lost = client.post(f"/api/v1/links/{link}/bookings", json=booking_body(types["Demo"], START))
    assert _counts(db)["bookings"] == 0
    # The client must not be told "201 booked" with a manage link to a booking that does not exist.
    assert lost.status_code == 503, lost.text
    assert lost.json() == DOWN

"""`meetings copy-data`: every row of the demo data arrives, ids and answers kept, on the other backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from shared.calendars.google.tokens import StoredTokens, decrypt_tokens, encrypt_tokens
from shared.datamove.copy import CopyRefused, copied_tables, copy_data
from shared.db import build_engine, session_scope
from shared.demo import seed_demo
from shared.models import Agent, Booking, CalendarConnection, Contact
from shared.settings import Settings
from tests.conftest import Clock
from widget_api.app import create_app


@pytest.fixture
def target_settings(settings: Settings, target_url: str) -> Settings:
    return settings.model_copy(update={"database_url": target_url})


@pytest.fixture
def target(target_settings: Settings) -> Iterator[Engine]:
    engine = build_engine(target_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def demo(db: sessionmaker[Session], settings: Settings, clock: Clock) -> None:
    with session_scope(db) as session:
        seed_demo(session, now=clock.now, settings=settings)
        agent = session.scalars(select(Agent).order_by(Agent.id)).first()
        assert agent is not None
        session.add(
            CalendarConnection(
                agent_id=agent.id,
                account_email="agent@example.com",
                encrypted_tokens=encrypt_tokens(settings, StoredTokens(access_token="t-456", refresh_token="r-123")),
                scopes=["https://www.googleapis.com/auth/calendar"],
                connected_at=clock.now,
            )
        )


def _all_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*(list(table.primary_key.columns) or list(table.columns)))
                )
            ]
            for table in copied_tables()
        }


def _row_total(engine: Engine) -> int:
    with engine.connect() as connection:
        return sum(int(connection.scalar(select(func.count()).select_from(t)) or 0) for t in copied_tables())


@pytest.mark.usefixtures("demo")
def test_copy_keeps_every_row_and_the_answers(
    engine: Engine, target: Engine, settings: Settings, target_settings: Settings, clock: Clock
) -> None:
    progress: list[tuple[str, int, int]] = []
    copied = copy_data(engine, target, batch_size=97, progress=lambda *step: progress.append(step))

    before, after = _all_rows(engine), _all_rows(target)
    assert {t.name: t.rows for t in copied} == {name: len(rows) for name, rows in before.items()}
    assert sum(t.rows for t in copied) > 1000
    for name in before:
        assert after[name] == before[name], name
    assert ("events", 97, len(before["events"])) in progress

    with session_scope(sessionmaker(bind=target)) as session:
        connection = session.scalars(select(CalendarConnection)).one()
        assert connection.encrypted_tokens is not None
        assert decrypt_tokens(target_settings, connection.encrypted_tokens).refresh_token == "r-123"
        # Sequences moved past the copied ids: a new row gets the next id, not a taken one.
        highest = session.scalar(select(func.max(Contact.id)))
        session.add(fresh := Contact(email="new@example.com"))
        session.flush()
        assert highest is not None
        assert fresh.id > highest
        session.rollback()

    with session_scope(sessionmaker(bind=engine)) as session:
        links = list(session.scalars(select(Agent.link).order_by(Agent.id)))
        tokens = list(session.scalars(select(Booking.manage_token).order_by(Booking.id).limit(20)))
    assert _same_answers(settings, target_settings, clock, links=links, manage_tokens=tokens)


def _answers(settings: Settings, clock: Clock, *, links: list[str], manage_tokens: list[str]) -> list[Any]:
    headers = {"Authorization": f"Bearer {settings.admin_token}"}
    out: list[Any] = []
    with TestClient(create_app(settings, clock=clock)) as client:
        for link in links:
            link_data = client.get(f"/api/v1/links/{link}").json()
            out.append(link_data)
            for meeting_type in link_data["meeting_types"]:
                for day in ("2026-06-01", "2026-06-02", "2026-06-05"):
                    out.append(
                        client.get(
                            f"/api/v1/links/{link}/slots",
                            params={"meeting_type_id": meeting_type["id"], "date": day, "tz": "Europe/Paris"},
                        ).json()
                    )
        out.append(client.get("/api/v1/admin/funnel", headers=headers).json())
        out.append(
            client.get(
                "/api/v1/admin/funnel", headers=headers, params={"from": "2026-05-01", "to": "2026-06-01"}
            ).json()
        )
        out.append(client.get("/api/v1/admin/bookings", headers=headers, params={"limit": 500}).json())
        out.append(client.get("/api/v1/admin/agents", headers=headers).json())
        for token in manage_tokens:
            out.append(client.get(f"/api/v1/bookings/{token}").json())
            page = client.get(f"/manage/{token}")
            assert page.status_code == 200
            out.append(page.text)
    return out


def _same_answers(source: Settings, target: Settings, clock: Clock, **kwargs: list[str]) -> bool:
    before = _answers(source, clock, **kwargs)
    after = _answers(target, clock, **kwargs)
    assert any(isinstance(a, dict) and a.get("slots") for a in before), "the demo should offer slots"
    assert after == before
    return True


@pytest.mark.usefixtures("demo")
def test_a_copy_failing_half_way_leaves_the_target_empty(engine: Engine, target: Engine) -> None:
    def fail_in_events(table: str, done: int, total: int) -> None:
        if table == "events" and done >= total // 2 and done > 0:
            raise RuntimeError("disk full (injected)")

    with pytest.raises(RuntimeError, match="injected"):
        copy_data(engine, target, batch_size=200, progress=fail_in_events)
    assert _row_total(target) == 0
    # And the copy can simply be run again.
    copy_data(engine, target)
    assert _row_total(target) == _row_total(engine)


@pytest.mark.usefixtures("demo")
def test_refuses_a_target_with_rows_or_another_revision(engine: Engine, target: Engine) -> None:
    with target.begin() as connection:
        connection.execute(insert(Contact.__table__).values(id=1, email="x@example.com", created_at=func.now()))
    with pytest.raises(CopyRefused, match="table contacts has rows"):
        copy_data(engine, target)
    with target.begin() as connection:
        connection.execute(Contact.__table__.delete())
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with pytest.raises(CopyRefused, match="revision 0001"):
        copy_data(engine, target)
    assert _row_total(target) == 0


def test_refuses_an_unreachable_target(engine: Engine, settings: Settings) -> None:
    unreachable = build_engine(
        settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    )
    with pytest.raises(CopyRefused, match="cannot reach"):
        copy_data(engine, unreachable)

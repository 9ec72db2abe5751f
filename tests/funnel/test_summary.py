"""The funnel's per-day summary (shared.funnel.summary) answers exactly what the direct path does.

The summary is PostgreSQL's; on SQLite the same calls read the rollup directly, and the comparisons
below still run (the default answer is the direct one there). Every comparison is against
`funnel(..., direct=True)`, the path that reads every session of the range.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from shared.contacts.service import contact_for_visitor, record_event
from shared.db import dialect_name, session_scope
from shared.funnel import rollup, summary
from shared.funnel.service import funnel
from shared.models import Event, FunnelDayCount, FunnelDirtyDay, FunnelSession, FunnelSummaryState
from shared.models.funnel_buckets import PAIRS, bucket_sql, gap_sql, in_order_sql, index_name
from shared.outbox.contract import JobContext
from shared.privacy.service import erase_contact
from shared.settings import Settings
from shared.steps.names import STEP_EVENTS
from tests.conftest import Clock

NOW = datetime(2026, 6, 20, 15, 30, tzinfo=UTC)
TODAY = NOW.date()


def _day(days_ago: int) -> datetime:
    return summary.midnight(TODAY - timedelta(days=days_ago))


def _postgresql(db: sessionmaker[Session]) -> bool:
    with session_scope(db) as session:
        return dialect_name(session) == "postgresql"


def _step(
    session: Session, *, session_id: str, step: int, at: datetime, now: datetime = NOW, contact_id: int | None = None
) -> None:
    record_event(session, name=STEP_EVENTS[step], contact_id=contact_id, session_id=session_id, occurred_at=at, now=now)


def _refresh(db: sessionmaker[Session], now: datetime = NOW) -> list[date]:
    with session_scope(db) as session:
        return summary.refresh_summary(session, now=now)


def _both(db: sessionmaker[Session], **filters: Any) -> tuple[Any, Any]:
    with session_scope(db) as session:
        return funnel(session, **filters), funnel(session, direct=True, **filters)


def _dirty(db: sessionmaker[Session]) -> list[date]:
    with session_scope(db) as session:
        return list(session.scalars(select(FunnelDirtyDay.day).order_by(FunnelDirtyDay.day)))


def _counted_days(db: sessionmaker[Session]) -> set[date]:
    with session_scope(db) as session:
        return set(session.scalars(select(FunnelDayCount.day)))


# Ranges with whole days, partial days at either edge, open ends, and today / yesterday inside.
RANGES: list[dict[str, Any]] = [
    {},
    {"granularity": "week"},
    {"start": _day(9), "end": _day(2)},
    {"start": _day(8) + timedelta(hours=7, microseconds=1), "end": _day(1) + timedelta(hours=5)},
    {"start": _day(5) + timedelta(seconds=1)},
    {"end": _day(4) + timedelta(hours=12)},
    {"start": _day(3) + timedelta(hours=1), "end": _day(3) + timedelta(hours=20)},
    {"start": _day(12), "end": _day(-2), "granularity": "week"},
]

# A session: its day (days before today, -1 = tomorrow), its start within the day (µs), and its
# step events as (step index, offset from the start): repeats, steps out of order, equal gaps
# (few distinct offsets) and gaps that carry the session's later steps past midnight.
OFFSETS = st.one_of(
    st.sampled_from([0, 10_000_000, 30_000_000, 60_000_000, 3_600_000_000]),
    st.integers(0, 2 * 86_400_000_000),
)
session_strategy = st.tuples(
    st.integers(-1, 12),
    st.integers(0, 86_400_000_000 - 1),
    st.lists(st.tuples(st.integers(0, 3), OFFSETS), min_size=1, max_size=5),
)


def _seed(db: sessionmaker[Session], sessions: list[tuple[int, int, list[tuple[int, int]]]]) -> None:
    with session_scope(db) as session:
        session.execute(delete(Event))
        session.execute(delete(FunnelSession))
        summary.forget_summary(session)
        for number, (days_ago, start, events) in enumerate(sessions):
            began = _day(days_ago) + timedelta(microseconds=start)
            for step, offset in events:
                _step(session, session_id=f"h{number}", step=step, at=began + timedelta(microseconds=offset))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(session_strategy, min_size=0, max_size=40))
def test_the_summary_answers_what_the_direct_path_does(
    db: sessionmaker[Session], sessions: list[tuple[int, int, list[tuple[int, int]]]]
) -> None:
    _seed(db, sessions)
    _refresh(db)
    for filters in RANGES:
        from_summary, direct = _both(db, **filters)
        assert from_summary == direct, filters
    if _postgresql(db):
        # Only settled days (≤ today − 2) are summarized; today and yesterday are always read.
        assert all(day <= TODAY - timedelta(days=2) for day in _counted_days(db))
        with session_scope(db) as session:
            assert session.scalar(select(FunnelSummaryState.summarized_through)) == TODAY - timedelta(days=2)


def _old_sessions(db: sessionmaker[Session]) -> None:
    """Three sessions five days ago (two of them with odd and even numbers of gaps), one today."""
    with session_scope(db) as session:
        began = _day(5) + timedelta(hours=10)
        for number, steps in enumerate([(0, 1, 2), (0, 1), (0,)]):
            for step in steps:
                _step(session, session_id=f"old{number}", step=step, at=began + timedelta(seconds=30 * step + number))
        _step(session, session_id="today", step=0, at=NOW - timedelta(hours=1))


def test_a_later_step_of_a_summarized_day_marks_it_and_changes_the_answer(db: sessionmaker[Session]) -> None:
    _old_sessions(db)
    _refresh(db)
    before, _ = _both(db)
    assert [s.sessions for s in before.steps] == [4, 2, 1, 0]
    with session_scope(db) as session:
        # Session old1 of five days ago gets step 3 and step 4 now (a visitor who came back).
        _step(session, session_id="old1", step=2, at=NOW - timedelta(minutes=5))
        _step(session, session_id="old0", step=3, at=NOW - timedelta(minutes=4))
    postgresql = _postgresql(db)
    assert _dirty(db) == ([TODAY - timedelta(days=5)] if postgresql else [])
    after, direct = _both(db)
    assert after == direct
    assert [s.sessions for s in after.steps] == [4, 2, 2, 1]
    # The refresh redoes the day and clears its mark; the answer stays.
    assert _refresh(db) == ([TODAY - timedelta(days=5)] if postgresql else [])
    assert _dirty(db) == []
    assert _both(db)[0] == after
    # A session of today getting a step marks nothing.
    with session_scope(db) as session:
        _step(session, session_id="today", step=1, at=NOW)
    assert _dirty(db) == []


def test_an_earlier_event_arriving_late_marks_both_days(db: sessionmaker[Session]) -> None:
    if not _postgresql(db):
        pytest.skip("SQLite keeps no summary")
    with session_scope(db) as session:
        _step(session, session_id="moved", step=1, at=_day(4) + timedelta(hours=9))
    _refresh(db)
    with session_scope(db) as session:
        # Its step 1 from two days before arrives now: the session moves from day 4 to day 6.
        _step(session, session_id="moved", step=0, at=_day(6) + timedelta(hours=23))
    assert _dirty(db) == [TODAY - timedelta(days=6), TODAY - timedelta(days=4)]
    for filters in RANGES:
        from_summary, direct = _both(db, **filters)
        assert from_summary == direct
    assert [p.period for p in _both(db)[0].trend if p.sessions[STEP_EVENTS[0]]] == [TODAY - timedelta(days=6)]


def test_a_backfilled_session_of_an_old_day_is_seen(db: sessionmaker[Session]) -> None:
    _refresh(db)  # everything up to today − 2 is summarized (nothing yet)
    with session_scope(db) as session:
        _step(session, session_id="backfill", step=0, at=_day(30))
    result, direct = _both(db)
    assert result == direct
    assert result.steps[0].sessions == 1


def _wait_for_lock(db: sessionmaker[Session], pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with session_scope(db) as session:
            waiting = session.scalar(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"), {"p": pid})
        if waiting == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError("the writer never waited for the refresh")


def test_a_writer_during_a_refresh_keeps_its_mark(db: sessionmaker[Session]) -> None:
    """The two interleavings of delete-before-read (shared.funnel.summary.refresh_summary)."""
    if not _postgresql(db):
        pytest.skip("SQLite keeps no summary")
    _old_sessions(db)
    _refresh(db)
    old_day = TODAY - timedelta(days=5)

    # 1. The writer's mark is not committed when the refresh deletes the marks: it survives.
    with session_scope(db) as writer:
        _step(writer, session_id="old2", step=1, at=NOW)
        assert _refresh(db) == []  # its own transaction, committed, saw neither the row nor the mark
    assert _dirty(db) == [old_day]
    assert _both(db)[0] == _both(db)[1]
    assert _both(db)[0].steps[1].sessions == 3

    # 2. The refresh has deleted a committed mark and not committed yet; a writer of that day
    # waits for it and then inserts its own mark.
    refresher = db()
    try:
        assert summary.refresh_summary(refresher, now=NOW) == [old_day]
        errors: list[BaseException] = []
        pid: list[int] = []

        def write() -> None:
            try:
                with session_scope(db) as writer:
                    pid.append(int(writer.scalar(text("SELECT pg_backend_pid()")) or 0))
                    _step(writer, session_id="old2", step=2, at=NOW)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        thread = threading.Thread(target=write)
        thread.start()
        while not pid and thread.is_alive():
            time.sleep(0.01)
        _wait_for_lock(db, pid[0])
        refresher.commit()
    finally:
        refresher.close()
    thread.join(10)
    assert not errors
    assert _dirty(db) == [old_day]
    from_summary, direct = _both(db)
    assert from_summary == direct
    assert from_summary.steps[2].sessions == 2


def test_erasure_and_retention_leave_the_answer_alone(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        contact = contact_for_visitor(session, visitor_id="v-erased")
        for step in range(3):
            _step(session, session_id="erased", step=step, at=_day(7) + timedelta(minutes=step), contact_id=contact.id)
        contact_id = contact.id
    _old_sessions(db)
    _refresh(db)
    before, _ = _both(db)
    with session_scope(db) as session:
        erase_contact(session, contact_id=contact_id, now=NOW, erased_by="test")
    after, direct = _both(db)
    assert after == direct == before
    assert _dirty(db) == []


def test_rebuild_forgets_the_summary(db: sessionmaker[Session]) -> None:
    _old_sessions(db)
    _refresh(db)
    with session_scope(db) as session:
        # A change behind the rollup's back (as a repair would find), then the rebuild.
        session.execute(delete(Event).where(Event.session_id == "old0"))
        rollup.rebuild(session)
    result, direct = _both(db)
    assert result == direct
    assert result.steps[0].sessions == 3
    with session_scope(db) as session:
        assert session.scalar(select(FunnelSummaryState.summarized_through)) is None
    _refresh(db)
    assert _both(db)[0] == direct


def test_the_admin_api_refreshes_the_summary_first(
    db: sessionmaker[Session], client: TestClient, clock: Clock, admin_headers: dict[str, str]
) -> None:
    clock.now = NOW
    _old_sessions(db)
    response = client.get("/api/v1/admin/funnel", headers=admin_headers)
    assert response.status_code == 200
    assert [s["sessions"] for s in response.json()["steps"]] == [4, 2, 1, 0]
    expected = {TODAY - timedelta(days=5)} if _postgresql(db) else set()
    assert _counted_days(db) == expected


def test_the_migration_holds_the_same_bucket_expression() -> None:
    path = Path(summary.__file__).parent.parent / "migrations" / "versions" / "0008_funnel_day_summary.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for pair, earlier, later in PAIRS:
        assert migration._bucket(earlier, later) == bucket_sql(pair)
        assert migration._gap(earlier, later) == gap_sql(pair)
        assert f"{later} >= {earlier}" == in_order_sql(pair)


def test_a_bucket_read_goes_through_its_index(db: sessionmaker[Session]) -> None:
    if not _postgresql(db):
        pytest.skip("the expression indexes are PostgreSQL's")
    with session_scope(db) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        for pair, _, _ in PAIRS:
            plan = "\n".join(
                session.scalars(
                    text(
                        f"EXPLAIN SELECT {gap_sql(pair)} FROM funnel_sessions WHERE {in_order_sql(pair)} "
                        f"AND {bucket_sql(pair)} = 7 ORDER BY {gap_sql(pair)}"
                    )
                )
            )
            assert index_name(pair) in plan, plan


def test_the_worker_chore_refreshes_at_most_every_ten_minutes(
    db: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    clock.now = NOW
    chore = summary.SummaryRefresh()
    context = JobContext(settings=settings, sessionmaker=db, clock=clock)
    _old_sessions(db)
    chore(context)
    postgresql = _postgresql(db)
    assert _counted_days(db) == ({TODAY - timedelta(days=5)} if postgresql else set())
    with session_scope(db) as session:
        _step(session, session_id="old2", step=1, at=NOW)
    clock.now = NOW + timedelta(minutes=9)
    chore(context)
    assert _dirty(db) == ([TODAY - timedelta(days=5)] if postgresql else [])  # not yet
    clock.now = NOW + timedelta(minutes=10)
    chore(context)
    assert _dirty(db) == []

"""The four-step funnel, checked against numbers worked out by hand (and against a reference model).

Sessions (agent A unless noted; D = A's Demo, O = A's Onboarding; times UTC):
  s1 Mon 06-01  1@10:00:00 2@10:00:30 3@10:01:30 4@10:03:30         D   full funnel
  s2 Mon 06-01  1@11:00:00 2@11:00:10 1@11:00:20 2@11:00:40 3@11:01:00  D   back and forth, stops at 3
  s3 Mon 06-01  1@12:00:00 1@12:00:05 1@12:00:06                     O   repeats step 1, stops
  s4 Mon 06-01  1@13:00:00 (O) 2@13:01:40 (D)                            changes type, stops at 2
  s5 Tue 06-02  1@09:00:00 2@09:00:20 3@09:00:50 4@09:01:50          O   full funnel
  s6 Tue 06-02  1@10:00:00 2@10:00:40                      agent B, B's Demo
  s7 Mon 06-08  1@10:00:00 2@10:01:00 3@10:01:10 4@10:02:10          D   full funnel, next week
  s8 Mon 06-08  4@12:00:00 only                                      D   reached every step
Noise that must not count: booking_confirmed in s1, a step event without a session.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.errors import AgentNotFound, MeetingTypeNotFound
from shared.contacts.service import record_event
from shared.db import session_scope
from shared.funnel.errors import InvalidFunnelFilter
from shared.funnel.service import funnel, funnel_csv
from shared.models import Event, FunnelSession
from shared.steps.names import STEP_EVENTS
from tests.conftest import Snapshot
from tests.factories import committed_agent

S1, S2, S3, S4 = STEP_EVENTS


def _at(day: int, hms: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in hms.split(":"))
    return datetime(2026, 6, day, hours, minutes, seconds, tzinfo=UTC)


@pytest.fixture
def data(db: sessionmaker[Session]) -> dict[str, int]:
    a, _, a_types = committed_agent(db)
    b, _, b_types = committed_agent(db)
    demo, onboarding = a_types["Demo"], a_types["Onboarding"]
    rows: list[tuple[str, str, int, str, int, int]] = [
        # session, step, day, time, agent, meeting type
        ("s1", S1, 1, "10:00:00", a, demo),
        ("s1", S2, 1, "10:00:30", a, demo),
        ("s1", S3, 1, "10:01:30", a, demo),
        ("s1", S4, 1, "10:03:30", a, demo),
        ("s2", S1, 1, "11:00:00", a, demo),
        ("s2", S2, 1, "11:00:10", a, demo),
        ("s2", S1, 1, "11:00:20", a, demo),
        ("s2", S2, 1, "11:00:40", a, demo),
        ("s2", S3, 1, "11:01:00", a, demo),
        ("s3", S1, 1, "12:00:00", a, onboarding),
        ("s3", S1, 1, "12:00:05", a, onboarding),
        ("s3", S1, 1, "12:00:06", a, onboarding),
        ("s4", S1, 1, "13:00:00", a, onboarding),
        ("s4", S2, 1, "13:01:40", a, demo),
        ("s5", S1, 2, "09:00:00", a, onboarding),
        ("s5", S2, 2, "09:00:20", a, onboarding),
        ("s5", S3, 2, "09:00:50", a, onboarding),
        ("s5", S4, 2, "09:01:50", a, onboarding),
        ("s6", S1, 2, "10:00:00", b, b_types["Demo"]),
        ("s6", S2, 2, "10:00:40", b, b_types["Demo"]),
        ("s7", S1, 8, "10:00:00", a, demo),
        ("s7", S2, 8, "10:01:00", a, demo),
        ("s7", S3, 8, "10:01:10", a, demo),
        ("s7", S4, 8, "10:02:10", a, demo),
        ("s8", S4, 8, "12:00:00", a, demo),
    ]
    with session_scope(db) as session:
        for session_id, name, day, hms, agent_id, meeting_type_id in rows:
            record_event(
                session,
                name=name,
                contact_id=None,
                agent_id=agent_id,
                meeting_type_id=meeting_type_id,
                session_id=session_id,
                occurred_at=_at(day, hms),
            )
        record_event(
            session,
            name="booking_confirmed",
            contact_id=None,
            agent_id=a,
            session_id="s1",
            occurred_at=_at(1, "10:03:30"),
        )
        record_event(session, name=S1, contact_id=None, agent_id=a, session_id=None, occurred_at=_at(1, "14:00:00"))
    return {"a": a, "b": b, "demo": demo, "onboarding": onboarding}


def _run(db: sessionmaker[Session], **filters: Any) -> Any:
    with session_scope(db) as session:
        return funnel(session, **filters)


def _sessions(result: Any) -> list[int]:
    return [step.sessions for step in result.steps]


def _trend(result: Any) -> list[tuple[str, list[int]]]:
    return [(p.period.isoformat(), [p.sessions[name] for name in STEP_EVENTS]) for p in result.trend]


def _medians(result: Any) -> list[tuple[float | None, int]]:
    return [(d.median_seconds, d.sessions) for d in result.median_seconds_between_steps]


def test_whole_funnel(db: sessionmaker[Session], data: dict[str, int]) -> None:
    result = _run(db)
    assert [s.name for s in result.steps] == list(STEP_EVENTS)
    assert _sessions(result) == [8, 7, 5, 4]
    assert [s.conversion for s in result.steps] == [1.0, 0.875, 0.7143, 0.8]
    assert [s.drop_off for s in result.steps] == [0, 1, 2, 1]
    assert [s.drop_off_rate for s in result.steps] == [0.0, 0.125, 0.2857, 0.2]
    # 1→2: 10 20 30 40 60 100; 2→3: 10 30 50 60; 3→4: 60 60 120.
    assert _medians(result) == [(35.0, 6), (40.0, 4), (60.0, 3)]
    assert [(d.from_step, d.to_step) for d in result.median_seconds_between_steps] == [(S1, S2), (S2, S3), (S3, S4)]


def test_daily_trend_is_zero_filled_and_adds_up(db: sessionmaker[Session], data: dict[str, int]) -> None:
    assert _trend(_run(db)) == [
        ("2026-06-01", [4, 3, 2, 1]),
        ("2026-06-02", [2, 2, 1, 1]),
        ("2026-06-03", [0, 0, 0, 0]),
        ("2026-06-04", [0, 0, 0, 0]),
        ("2026-06-05", [0, 0, 0, 0]),
        ("2026-06-06", [0, 0, 0, 0]),
        ("2026-06-07", [0, 0, 0, 0]),
        ("2026-06-08", [2, 2, 2, 2]),
    ]


def test_weekly_trend(db: sessionmaker[Session], data: dict[str, int]) -> None:
    assert _trend(_run(db, granularity="week")) == [("2026-06-01", [6, 5, 3, 2]), ("2026-06-08", [2, 2, 2, 2])]


def test_filter_by_agent(db: sessionmaker[Session], data: dict[str, int]) -> None:
    assert _sessions(_run(db, agent_id=data["a"])) == [7, 6, 5, 4]
    only_b = _run(db, agent_id=data["b"])
    assert _sessions(only_b) == [1, 1, 0, 0]
    assert _medians(only_b) == [(40.0, 1), (None, 0), (None, 0)]


def test_filter_by_meeting_type_keeps_sessions_that_touched_it(db: sessionmaker[Session], data: dict[str, int]) -> None:
    demo = _run(db, meeting_type_id=data["demo"])
    assert _sessions(demo) == [5, 5, 4, 3]  # s1 s2 s4 s7 s8
    assert _medians(demo)[0] == (45.0, 4)  # 10 30 60 100
    assert _sessions(_run(db, meeting_type_id=data["onboarding"])) == [3, 2, 1, 1]  # s3 s4 s5


def test_filter_by_date_selects_sessions_that_started_inside(db: sessionmaker[Session], data: dict[str, int]) -> None:
    result = _run(db, start=_at(1, "12:00:00"), end=_at(2, "09:00:30"))
    # Sessions that started inside: s3 (step 1), s4 (to step 2), s5 (started 09:00:00, so all of it
    # counts, including its steps 3 and 4 after the end). s1, s2 started before; s6–s8 after.
    assert _sessions(result) == [3, 2, 1, 1]
    assert [s.conversion for s in result.steps] == [1.0, 0.6667, 0.5, 1.0]
    assert [s.drop_off for s in result.steps] == [0, 1, 1, 0]
    assert [s.drop_off_rate for s in result.steps] == [0.0, 0.3333, 0.5, 0.0]
    assert _trend(result) == [("2026-06-01", [2, 1, 0, 0]), ("2026-06-02", [1, 1, 1, 1])]
    # 1→2: s4 100, s5 20; 2→3: s5 30; 3→4: s5 60.
    assert _medians(result) == [(60.0, 2), (30.0, 1), (60.0, 1)]
    assert (result.filters.start, result.filters.end) == (_at(1, "12:00:00"), _at(2, "09:00:30"))


def test_filters_combine(db: sessionmaker[Session], data: dict[str, int]) -> None:
    result = _run(
        db,
        agent_id=data["a"],
        start=datetime(2026, 6, 1, tzinfo=UTC),
        end=datetime(2026, 6, 8, tzinfo=UTC),
        granularity="week",
    )
    assert _sessions(result) == [5, 4, 3, 2]
    assert _trend(result) == [("2026-06-01", [5, 4, 3, 2])]


def test_empty_funnel(db: sessionmaker[Session], data: dict[str, int]) -> None:
    idle, _, _ = committed_agent(db)
    result = _run(db, agent_id=idle)
    assert _sessions(result) == [0, 0, 0, 0]
    assert [s.conversion for s in result.steps] == [0.0, 0.0, 0.0, 0.0]
    assert result.trend == []
    assert _medians(result) == [(None, 0), (None, 0), (None, 0)]
    ranged = _run(db, agent_id=idle, start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 6, 3, tzinfo=UTC))
    assert _trend(ranged) == [("2026-06-01", [0, 0, 0, 0]), ("2026-06-02", [0, 0, 0, 0])]


def test_a_step_recorded_before_the_previous_one_is_not_a_negative_duration(db: sessionmaker[Session]) -> None:
    agent_id, _, _ = committed_agent(db)
    with session_scope(db) as session:
        for name, hms in ((S2, "10:00:00"), (S1, "10:00:05")):
            record_event(
                session, name=name, contact_id=None, agent_id=agent_id, session_id="skew", occurred_at=_at(3, hms)
            )
    result = _run(db)
    assert _sessions(result) == [1, 1, 0, 0]
    assert _medians(result)[0] == (None, 0)


@pytest.mark.parametrize(
    ("filters", "error", "reason"),
    [
        ({"granularity": "month"}, InvalidFunnelFilter, "granularity must be one of day, week, got 'month'"),
        ({"start": datetime(2026, 6, 1)}, InvalidFunnelFilter, "from must carry a UTC offset"),
        ({"start": _at(2, "00:00:00"), "end": _at(2, "00:00:00")}, InvalidFunnelFilter, "to must be after from"),
        ({"agent_id": 999}, AgentNotFound, "agent not found"),
        ({"meeting_type_id": 999}, MeetingTypeNotFound, "meeting type not found"),
    ],
)
def test_bad_filters(db: sessionmaker[Session], filters: dict[str, Any], error: type[Exception], reason: str) -> None:
    with pytest.raises(error, match=reason):
        _run(db, **filters)


def test_csv_export(db: sessionmaker[Session], data: dict[str, int]) -> None:
    text = funnel_csv(_run(db, start=_at(1, "12:00:00"), end=_at(2, "09:00:30")))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "section",
        "period",
        "step",
        "sessions",
        "conversion",
        "drop_off",
        "drop_off_rate",
        "median_seconds_from_previous_step",
    ]
    assert rows[1:5] == [
        ["total", "", S1, "3", "1.0", "0", "0.0", ""],
        ["total", "", S2, "2", "0.6667", "1", "0.3333", "60.0"],
        ["total", "", S3, "1", "0.5", "1", "0.5", "30.0"],
        ["total", "", S4, "1", "1.0", "0", "0.0", "60.0"],
    ]
    assert rows[5:] == [
        ["trend", "2026-06-01", S1, "2", "", "", "", ""],
        ["trend", "2026-06-01", S2, "1", "", "", "", ""],
        ["trend", "2026-06-01", S3, "0", "", "", "", ""],
        ["trend", "2026-06-01", S4, "0", "", "", "", ""],
        ["trend", "2026-06-02", S1, "1", "", "", "", ""],
        ["trend", "2026-06-02", S2, "1", "", "", "", ""],
        ["trend", "2026-06-02", S3, "1", "", "", "", ""],
        ["trend", "2026-06-02", S4, "1", "", "", "", ""],
    ]


def test_funnel_api(
    client: TestClient, db: sessionmaker[Session], data: dict[str, int], admin_headers: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/admin/funnel",
        params={
            "from": "2026-06-01T14:00:00+02:00",
            "to": "2026-06-02T09:00:30Z",
            "agent_id": data["a"],
            "granularity": "day",
        },
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["steps"] == [
        {"name": S1, "sessions": 3, "conversion": 1.0, "drop_off": 0, "drop_off_rate": 0.0},
        {"name": S2, "sessions": 2, "conversion": 0.6667, "drop_off": 1, "drop_off_rate": 0.3333},
        {"name": S3, "sessions": 1, "conversion": 0.5, "drop_off": 1, "drop_off_rate": 0.5},
        {"name": S4, "sessions": 1, "conversion": 1.0, "drop_off": 0, "drop_off_rate": 0.0},
    ]
    assert body["trend"] == [
        {"period": "2026-06-01", "sessions": {S1: 2, S2: 1, S3: 0, S4: 0}},
        {"period": "2026-06-02", "sessions": {S1: 1, S2: 1, S3: 1, S4: 1}},
    ]
    assert body["median_seconds_between_steps"] == [
        {"from_step": S1, "to_step": S2, "median_seconds": 60.0, "sessions": 2},
        {"from_step": S2, "to_step": S3, "median_seconds": 30.0, "sessions": 1},
        {"from_step": S3, "to_step": S4, "median_seconds": 60.0, "sessions": 1},
    ]
    assert body["filters"] == {
        "from": "2026-06-01T12:00:00Z",
        "to": "2026-06-02T09:00:30Z",
        "agent_id": data["a"],
        "meeting_type_id": None,
        "granularity": "day",
    }
    weekly = client.get(
        "/api/v1/admin/funnel", params={"meeting_type_id": data["demo"], "granularity": "week"}, headers=admin_headers
    ).json()
    assert [s["sessions"] for s in weekly["steps"]] == [5, 5, 4, 3]
    assert [t["period"] for t in weekly["trend"]] == ["2026-06-01", "2026-06-08"]


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"granularity": "month"}, 422, "granularity must be one of day, week, got 'month'"),
        ({"from": "last week"}, 422, "from must be an ISO 8601 datetime such as 2026-06-01T00:00:00Z, got 'last week'"),
        ({"to": "2026-06-01T00:00:00"}, 422, "to must carry a UTC offset, e.g. 2026-06-01T00:00:00Z"),
        ({"from": "2026-06-02T00:00:00Z", "to": "2026-06-01T00:00:00Z"}, 422, "to must be after from"),
        ({"meeting_type_id": 999}, 404, "meeting type not found"),
    ],
)
def test_funnel_api_refuses_bad_filters(
    client: TestClient,
    db: sessionmaker[Session],
    admin_headers: dict[str, str],
    snapshot: Callable[[], Snapshot],
    params: dict[str, Any],
    status: int,
    detail: str,
) -> None:
    committed_agent(db)
    before = snapshot()
    response = client.get("/api/v1/admin/funnel", params=params, headers=admin_headers)
    assert response.status_code == status, response.text
    assert response.json() == {"detail": detail}
    assert snapshot() == before


# A session is a list of (step index, seconds since the first event); hypothesis builds a handful.
session_strategy = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3 * 86400)), min_size=1, max_size=6)


def _reference(sessions: list[list[tuple[int, int]]]) -> tuple[list[int], list[tuple[float | None, int]]]:
    """The funnel's definition, written out plainly in Python."""
    reached = [0, 0, 0, 0]
    gaps: list[list[float]] = [[], [], []]
    for events in sessions:
        top = max(step for step, _ in events)
        for index in range(top + 1):
            reached[index] += 1
        first = {step: min(t for s, t in events if s == step) for step, _ in events}
        for index in range(3):
            if index in first and index + 1 in first and first[index + 1] >= first[index]:
                gaps[index].append(float(first[index + 1] - first[index]))
    return reached, [(statistics.median(g) if g else None, len(g)) for g in gaps]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(session_strategy, min_size=0, max_size=12))
def test_matches_the_reference_definition(db: sessionmaker[Session], sessions: list[list[tuple[int, int]]]) -> None:
    origin = datetime(2026, 6, 1, tzinfo=UTC)
    with session_scope(db) as session:
        session.execute(delete(Event))
        session.execute(delete(FunnelSession))  # the rollup's rows of the previous example
        for number, events in enumerate(sessions):
            for step, seconds in events:
                record_event(
                    session,
                    name=STEP_EVENTS[step],
                    contact_id=None,
                    session_id=f"h{number}",
                    occurred_at=origin + timedelta(seconds=seconds),
                )
    result = _run(db, granularity="week")
    reached, medians = _reference(sessions)
    assert _sessions(result) == reached
    assert _sessions(result) == sorted(_sessions(result), reverse=True)  # a funnel only narrows
    assert [s.sessions for s in result.steps] == [sum(p.sessions[n] for p in result.trend) for n in STEP_EVENTS]
    for (median, count), (expected, expected_count) in zip(_medians(result), medians, strict=True):
        assert count == expected_count
        assert median == (None if expected is None else pytest.approx(expected, abs=0.01))
    if sessions:
        assert result.trend[0].period == date(2026, 6, 1)

"""The funnel page shows exactly shared.funnel.service.funnel's numbers, which GET /api/v1/admin/funnel
returns too, for the same filters, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from shared.db import session_scope
from shared.funnel.service import funnel
from shared.models import MeetingType
from shared.settings import Settings
from tests.dashboard.conftest import JAMES, MANAGER, OLA, AppFactory, DemoDatabase
from tests.dashboard.test_pages import frame, open_page
from widget_api.app import create_app

ADMIN_TOKEN = "dashboard-test-admin-token-0123456789"


def shown(app: AppTest) -> list[dict[str, Any]]:
    """The steps table and the four metrics, which must agree with each other."""
    rows = frame(app, "funnel_steps")
    assert [m.value for m in app.metric] == [f"{row['sessions']:,}" for row in rows]
    return rows


def expected_rows(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "step": step["name"],
            "sessions": step["sessions"],
            "conversion": f"{step['conversion']:.1%}",
            "drop-off": step["drop_off"],
            "drop-off rate": f"{step['drop_off_rate']:.1%}",
        }
        for step in steps
    ]


def api_funnel(database_url: str, params: dict[str, Any]) -> dict[str, Any]:
    settings = Settings(environment="test", database_url=database_url, admin_token=ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/admin/funnel", params=params, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def service_funnel(demo_db: DemoDatabase, **filters: Any) -> dict[str, Any]:
    with session_scope(demo_db.sessions) as session:
        result = funnel(session, **filters)
    return {
        "steps": [
            {
                "name": s.name,
                "sessions": s.sessions,
                "conversion": s.conversion,
                "drop_off": s.drop_off,
                "drop_off_rate": s.drop_off_rate,
            }
            for s in result.steps
        ],
        "trend": [{"period": p.period.isoformat(), "sessions": dict(p.sessions)} for p in result.trend],
        "median_seconds_between_steps": [
            {"from_step": d.from_step, "to_step": d.to_step, "median_seconds": d.median_seconds, "sessions": d.sessions}
            for d in result.median_seconds_between_steps
        ],
    }


def range_of(first: date, last: date) -> tuple[datetime, datetime]:
    return datetime.combine(first, time(0), tzinfo=UTC), datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)


def test_the_funnel_page_shows_the_services_and_the_apis_numbers(
    demo_db_any_backend: DemoDatabase, dashboard: AppFactory
) -> None:
    demo_db = demo_db_any_backend
    james = demo_db.agent_id(JAMES)
    with session_scope(demo_db.sessions) as session:
        demo_type = session.scalar(
            select(MeetingType.id).where(MeetingType.agent_id == james, MeetingType.name == "Demo")
        )
    app = open_page(dashboard, demo_db.quick_token(MANAGER))
    first, last = app.date_input(key="funnel_dates").value
    assert (last - first).days == 27

    cases: list[tuple[str, dict[str, Any]]] = [("all agents, last 28 days", {})]
    cases.append(("one agent", {"agent_id": james}))
    cases.append(("one agent and meeting type, per week", {"agent_id": james, "meeting_type_id": demo_type}))
    cases.append(("a longer range", {"agent_id": james, "meeting_type_id": demo_type, "first": first - timedelta(30)}))
    for label, case in cases:
        if "agent_id" in case:
            app.selectbox(key="funnel_agent").set_value(case["agent_id"]).run()
        if "meeting_type_id" in case:
            app.selectbox(key=f"funnel_type_{case['agent_id']}").set_value(case["meeting_type_id"])
            app.radio(key="funnel_granularity").set_value("week").run()
        if "first" in case:
            first = case["first"]
            app.date_input(key="funnel_dates").set_value((first, last)).run()
        assert not app.exception, label
        assert not app.error, (label, [e.value for e in app.error])

        start, end = range_of(first, last)
        filters = {k: case[k] for k in ("agent_id", "meeting_type_id") if k in case}
        granularity = "week" if "meeting_type_id" in case else "day"
        expected = service_funnel(demo_db, start=start, end=end, granularity=granularity, **filters)
        api = api_funnel(
            demo_db.url, {"from": start.isoformat(), "to": end.isoformat(), "granularity": granularity, **filters}
        )
        assert expected["steps"][0]["sessions"] > 0, label
        assert api["steps"] == expected["steps"], label
        assert api["median_seconds_between_steps"] == expected["median_seconds_between_steps"], label
        assert api["trend"] == expected["trend"], label
        assert shown(app) == expected_rows(expected["steps"]), label
        medians = frame(app, "funnel_medians")
        assert [row["sessions"] for row in medians] == [
            d["sessions"] for d in expected["median_seconds_between_steps"]
        ], label


def test_an_agent_sees_their_own_funnel(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    app = open_page(dashboard, demo_db.quick_token(OLA))
    first, last = app.date_input(key="funnel_dates").value
    start, end = range_of(first, last)

    expected = service_funnel(demo_db, start=start, end=end, agent_id=demo_db.agent_id(OLA))
    everyone = service_funnel(demo_db, start=start, end=end)

    assert shown(app) == expected_rows(expected["steps"])
    assert expected["steps"][0]["sessions"] < everyone["steps"][0]["sessions"]
    assert [b.label for b in app.get("download_button")] == ["Download CSV"]


@pytest.mark.parametrize("granularity", ["day", "week"])
def test_the_trend_chart_and_csv_are_there(demo_db: DemoDatabase, dashboard: AppFactory, granularity: str) -> None:
    app = open_page(dashboard, demo_db.quick_token(MANAGER))
    app.radio(key="funnel_granularity").set_value(granularity).run()
    assert len(app.get("plotly_chart")) == 2
    assert [s.value for s in app.subheader][-1] == f"Trend per {granularity}"

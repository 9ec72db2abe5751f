"""Busy times from Google remove slots, through the public API of the app wired with the Google source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.calendars.google.busy import GoogleBusySource
from shared.calendars.google.service import choose_calendars
from shared.db import session_scope
from shared.models import Agent
from shared.settings import Settings
from tests.google.conftest import TUESDAY, ConnectedAgent, booking_form
from tests.google.standin import GoogleStandIn


def _slot_starts(client: TestClient, agent: ConnectedAgent, day: str = TUESDAY) -> list[str]:
    response = client.get(
        f"/api/v1/links/{agent.link}/slots",
        params={"meeting_type_id": agent.types["Demo"], "date": day, "tz": "Europe/Warsaw"},
    )
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"]]


def test_google_busy_times_remove_slots(
    google_client: TestClient, standin: GoogleStandIn, connected_agent: ConnectedAgent
) -> None:
    # 10:00–12:00 in Warsaw (CEST) is busy in the agent's Google Calendar.
    standin.add_busy(datetime(2026, 6, 2, 8, 0, tzinfo=UTC), datetime(2026, 6, 2, 10, 0, tzinfo=UTC))

    starts = _slot_starts(google_client, connected_agent)

    assert "2026-06-02T09:30:00+02:00" in starts  # ends exactly when the busy time begins
    for hidden in ("10:00", "10:30", "11:00", "11:30"):
        assert f"2026-06-02T{hidden}:00+02:00" not in starts
    assert "2026-06-02T12:00:00+02:00" in starts
    assert len(starts) == 16 - 4
    (query,) = standin.calls_to("freebusy.query")
    assert query["body"]["items"] == [{"id": "primary"}]


def test_a_day_busy_in_google_is_not_offered_in_the_month_view(
    google_client: TestClient, standin: GoogleStandIn, connected_agent: ConnectedAgent
) -> None:
    standin.add_busy(datetime(2026, 6, 3, 0, 0, tzinfo=UTC), datetime(2026, 6, 4, 0, 0, tzinfo=UTC))

    response = google_client.get(
        f"/api/v1/links/{connected_agent.link}/days",
        params={"meeting_type_id": connected_agent.types["Demo"], "month": "2026-06", "tz": "Europe/Warsaw"},
    )

    assert response.status_code == 200
    days = response.json()["days"]
    assert "2026-06-02" in days
    assert "2026-06-03" not in days
    assert "2026-06-04" in days


def test_browsing_uses_a_short_cache_but_booking_checks_google_fresh(
    google_client: TestClient, standin: GoogleStandIn, connected_agent: ConnectedAgent
) -> None:
    assert "2026-06-02T10:00:00+02:00" in _slot_starts(google_client, connected_agent)
    # The agent accepts another meeting in Google Calendar a moment later.
    standin.add_busy(datetime(2026, 6, 2, 8, 0, tzinfo=UTC), datetime(2026, 6, 2, 9, 0, tzinfo=UTC))

    # Browsing again within the cache time: no new freeBusy call, the slot is still shown.
    assert "2026-06-02T10:00:00+02:00" in _slot_starts(google_client, connected_agent)
    assert len(standin.calls_to("freebusy.query")) == 1

    # Booking it asks Google again and refuses the now-busy slot.
    taken = google_client.post(
        f"/api/v1/links/{connected_agent.link}/bookings",
        json=booking_form(connected_agent.types["Demo"], "2026-06-02T10:00:00+02:00"),
    )
    assert taken.status_code == 409
    assert len(standin.calls_to("freebusy.query")) == 2


def test_busy_times_come_from_the_calendars_the_agent_picked(
    google_client: TestClient, standin: GoogleStandIn, connected_agent: ConnectedAgent, db: sessionmaker[Session]
) -> None:
    team = "team@group.calendar.google.com"
    standin.add_busy(datetime(2026, 6, 2, 12, 0, tzinfo=UTC), datetime(2026, 6, 2, 13, 0, tzinfo=UTC), team)
    with session_scope(db) as session:
        choose_calendars(
            session,
            agent_id=connected_agent.id,
            busy_calendar_ids=["primary", team, "gone@group.calendar.google.com"],
            destination_calendar_id="primary",
        )

    starts = _slot_starts(google_client, connected_agent)

    # 14:00–15:00 Warsaw is busy in the team calendar; the calendar that no longer exists is skipped.
    assert "2026-06-02T14:00:00+02:00" not in starts
    assert "2026-06-02T14:30:00+02:00" not in starts
    assert "2026-06-02T13:00:00+02:00" in starts
    (query,) = standin.calls_to("freebusy.query")
    assert [item["id"] for item in query["body"]["items"]] == ["primary", team, "gone@group.calendar.google.com"]


def test_a_horizon_longer_than_90_days_is_split_into_several_freebusy_calls(
    google_settings: Settings, standin: GoogleStandIn, connected_agent: ConnectedAgent, db: sessionmaker[Session]
) -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    end = start + timedelta(days=200)
    early = (datetime(2026, 6, 10, 9, tzinfo=UTC), datetime(2026, 6, 10, 10, tzinfo=UTC))
    late = (datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC))
    standin.add_busy(*early)
    standin.add_busy(*late)

    with session_scope(db) as session:
        agent = session.get(Agent, connected_agent.id)
        assert agent is not None
        intervals = GoogleBusySource(google_settings).busy_intervals(
            session, agent=agent, start=start, end=end, fresh=True
        )

    assert sorted((i.start, i.end) for i in intervals) == [early, late]
    calls = standin.calls_to("freebusy.query")
    assert len(calls) == 3
    pieces = [
        (datetime.fromisoformat(c["body"]["timeMin"]), datetime.fromisoformat(c["body"]["timeMax"])) for c in calls
    ]
    assert pieces[0][0] == start
    assert pieces[-1][1] == end
    assert all(a_end == b_start for (_, a_end), (b_start, _) in zip(pieces, pieces[1:], strict=False))
    assert all(piece_end - piece_start <= timedelta(days=90) for piece_start, piece_end in pieces)


def test_google_failing_while_browsing_falls_back_and_the_api_still_answers(
    google_client: TestClient, standin: GoogleStandIn, connected_agent: ConnectedAgent
) -> None:
    standin.fail_next("freebusy.query", 503)

    starts = _slot_starts(google_client, connected_agent)

    assert len(starts) == 16  # local bookings only: there are none

"""The Meeting types page: where each call happens, the value field for the kinds that need one,
Google Meet only with Google Calendar connected (and the page says why)."""

from __future__ import annotations

from sqlalchemy import select

from shared.db import session_scope
from shared.models import CalendarConnection, MeetingType
from tests.dashboard.conftest import OLA, AppFactory, DemoDatabase
from tests.dashboard.test_pages import frame, no_raw_html, open_page


def _locations(demo_db: DemoDatabase, agent_id: int) -> dict[str, tuple[str, str | None]]:
    with session_scope(demo_db.sessions) as session:
        types = session.scalars(select(MeetingType).where(MeetingType.agent_id == agent_id))
        return {m.name: (m.location_kind, m.location_value) for m in types}


def test_locations_are_shown_set_and_refused_with_the_reason(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    ola = demo_db.agent_id(OLA)
    with session_scope(demo_db.sessions) as session:
        ids = {m.name: m.id for m in session.scalars(select(MeetingType).where(MeetingType.agent_id == ola))}
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/meeting_types.py")
    shown = {row["name"]: row["location"] for row in frame(app, "meeting_types_table")}
    assert shown["Demo"] == "Google Meet (not connected)"
    assert shown["Onboarding"] == "Online meeting: https://zoom.us/j/5550100200"
    assert shown["Assistance"] == "Phone call: you call the invitee"
    assert any("Google Meet needs a connected Google Calendar" in c.value for c in app.caption)
    assert any("not connected" in w.value for w in app.warning)
    # Without Google, google_meet is not offered for the types that do not already use it.
    assert "Google Meet" not in app.selectbox(key=f"type_location_{ids['Assistance']}_kind").options

    kind = f"type_location_{ids['Assistance']}"
    app.selectbox(key=f"{kind}_kind").select("link").run()
    app.text_input(key=f"{kind}_value_link").input("http://not-https.example.com").run()
    app.button(key=f"type_location_save_{ids['Assistance']}").click().run()
    assert [e.value for e in app.error] == ["Not saved: location.value must be an absolute https:// URL"]
    assert _locations(demo_db, ola)["Assistance"] == ("phone", None)

    app.text_input(key=f"{kind}_value_link").input("https://meet.example.com/<room>").run()
    app.button(key=f"type_location_save_{ids['Assistance']}").click().run()
    assert not app.error, [e.value for e in app.error]
    assert _locations(demo_db, ola)["Assistance"] == ("link", "https://meet.example.com/<room>")
    # A kind without a value shows no value field.
    app.selectbox(key=f"{kind}_kind").select("none").run()
    assert not [t for t in app.text_input if t.key and t.key.startswith(f"{kind}_value")]
    no_raw_html(app)


def test_google_meet_is_offered_once_google_is_connected(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    ola = demo_db.agent_id(OLA)
    with session_scope(demo_db.sessions) as session:
        session.add(CalendarConnection(agent_id=ola, account_email="ola@example.com"))
        assistance = session.scalars(
            select(MeetingType.id).where(MeetingType.agent_id == ola, MeetingType.name == "Assistance")
        ).one()
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/meeting_types.py")
    shown = {row["name"]: row["location"] for row in frame(app, "meeting_types_table")}
    assert shown["Demo"] == "Google Meet"
    picker = app.selectbox(key=f"type_location_{assistance}_kind")
    assert "Google Meet" in picker.options
    picker.select("google_meet").run()
    app.button(key=f"type_location_save_{assistance}").click().run()
    assert not app.error, [e.value for e in app.error]
    assert _locations(demo_db, ola)["Assistance"] == ("google_meet", None)

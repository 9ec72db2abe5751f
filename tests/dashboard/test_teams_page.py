"""The Teams page (managers, SPEC §15) and the funnel's team filter, driven with AppTest on a copy of the
demo database: what the forms save is what the team services store, refused input saves nothing and
says why, a member whose Google grant was revoked is named, and the funnel shows the team's numbers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from shared.db import session_scope
from shared.demo import DEMO_TEAM_NAME, DEMO_TEAM_TYPE
from shared.funnel.service import funnel
from shared.models import CalendarConnection, MeetingType, Team
from shared.models.calendar import STATUS_NEEDS_RECONNECT
from shared.models.team import MODE_COLLECTIVE, MODE_ROUND_ROBIN
from tests.dashboard.conftest import JAMES, MANAGER, OLA, PRIYA, AppFactory, DemoDatabase
from tests.dashboard.test_pages import frame, no_raw_html, open_page, texts

PAGE = "views/teams.py"


def teams_table(app: AppTest) -> list[dict[str, Any]]:
    matches = [d.value for d in app.dataframe if "team booking link" in d.value.columns]
    assert len(matches) == 1
    return list(matches[0].to_dict("records"))


def stored_teams(demo_db: DemoDatabase) -> dict[str, dict[str, Any]]:
    with session_scope(demo_db.sessions) as session:
        return {
            t.name: {"id": t.id, "mode": t.mode, "members": t.member_ids, "link": t.link, "deleted": t.deleted_at}
            for t in session.scalars(select(Team))
        }


def team_types(demo_db: DemoDatabase, team_id: int) -> dict[str, dict[str, Any]]:
    with session_scope(demo_db.sessions) as session:
        types = session.scalars(
            select(MeetingType).where(MeetingType.team_id == team_id, MeetingType.deleted_at.is_(None))
        )
        return {m.name: {"id": m.id, "minutes": m.duration_minutes, "buffer": m.buffer_before_minutes} for m in types}


def test_only_managers_have_the_teams_page(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    app = dashboard(demo_db.quick_token(OLA)).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)


def test_the_demo_team_is_shown_with_its_link_types_and_members(
    demo_db_any_backend: DemoDatabase, dashboard: AppFactory
) -> None:
    demo_db = demo_db_any_backend
    app = open_page(dashboard, demo_db.quick_token(MANAGER), PAGE)
    assert [t.value for t in app.title] == ["Teams"]
    assert not app.error, [e.value for e in app.error]
    team = stored_teams(demo_db)[DEMO_TEAM_NAME]
    [row] = teams_table(app)
    assert row["team"] == DEMO_TEAM_NAME
    assert row["mode"] == MODE_ROUND_ROBIN
    assert row["members"] == "Ola Nowak, James Carter, Priya Shah"
    assert row["meeting types"] == 1
    assert row["team booking link"].endswith(f"/b/{team['link']}")
    assert [c.value for c in app.code] == [row["team booking link"]]
    types = [d.value for d in app.dataframe if "position" in d.value.columns]
    assert [list(t["name"]) for t in types] == [[DEMO_TEAM_TYPE]]
    # No member's Google grant was revoked (none is connected in the demo); the Meet type says it is not.
    assert not [w for w in app.warning if "written locally only" in w.value]
    assert any(w.value.startswith("Google Meet: not connected.") for w in app.warning)
    no_raw_html(app)


def test_create_a_team_and_refused_input_saves_nothing(
    demo_db_any_backend: DemoDatabase, dashboard: AppFactory
) -> None:
    demo_db = demo_db_any_backend
    app = open_page(dashboard, demo_db.quick_token(MANAGER), PAGE)
    submit = "FormSubmitter:create_team-Create team"

    app.text_input(key="new_team_name").input("Support <duo>")
    app.button(key=submit).click().run()
    assert [e.value for e in app.error] == ["Not saved: a team needs at least one member (member_ids is empty)"]
    assert set(stored_teams(demo_db)) == {DEMO_TEAM_NAME}

    ola, priya = demo_db.agent_id(OLA), demo_db.agent_id(PRIYA)
    app.multiselect(key="new_team_members").select(priya).select(ola)
    app.radio(key="new_team_mode").set_value(MODE_COLLECTIVE)
    app.button(key=submit).click().run()
    assert not app.error, [e.value for e in app.error]
    created = stored_teams(demo_db)["Support <duo>"]
    assert (created["mode"], created["members"]) == (MODE_COLLECTIVE, [priya, ola])
    assert "Team created. Add its meeting types: a new team offers none." in texts(app)
    rows = {row["team"]: row for row in teams_table(app)}
    assert rows["Support <duo>"]["members"] == "Priya Shah, Ola Nowak"
    assert rows["Support <duo>"]["meeting types"] == 0
    no_raw_html(app)


def test_rename_change_members_and_mode_rotate_and_delete(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    team = stored_teams(demo_db)[DEMO_TEAM_NAME]
    team_id = team["id"]
    james = demo_db.agent_id(JAMES)
    app = open_page(dashboard, demo_db.quick_token(MANAGER), PAGE)
    save = f"FormSubmitter:edit_team_{team_id}-Save team"

    app.text_input(key=f"team_name_{team_id}").input("   ")
    app.button(key=save).click().run()
    assert [e.value for e in app.error] == ["Not saved: name is required"]
    assert stored_teams(demo_db)[DEMO_TEAM_NAME]["members"] == team["members"]

    app.text_input(key=f"team_name_{team_id}").input("Sales EMEA")
    app.radio(key=f"team_mode_{team_id}").set_value(MODE_COLLECTIVE)
    app.multiselect(key=f"team_members_{team_id}").unselect(james)
    app.button(key=save).click().run()
    assert not app.error, [e.value for e in app.error]
    renamed = stored_teams(demo_db)["Sales EMEA"]
    assert renamed["mode"] == MODE_COLLECTIVE
    assert renamed["members"] == [m for m in team["members"] if m != james]

    # Rotating needs the box ticked; the old link then stops working.
    assert app.button(key=f"team_rotate_{team_id}").disabled
    app.checkbox(key=f"team_rotate_ok_{team_id}").check().run()
    app.button(key=f"team_rotate_{team_id}").click().run()
    rotated = stored_teams(demo_db)["Sales EMEA"]["link"]
    assert rotated != team["link"]
    assert [c.value for c in app.code] == [teams_table(app)[0]["team booking link"]]
    assert app.code[0].value.endswith(f"/b/{rotated}")

    app.checkbox(key=f"team_delete_ok_{team_id}").check().run()
    app.button(key=f"team_delete_{team_id}").click().run()
    assert stored_teams(demo_db)["Sales EMEA"]["deleted"] is not None
    assert not [d for d in app.dataframe if "team booking link" in d.value.columns]
    assert "No teams yet: create one below." in texts(app)


def test_team_meeting_types_are_created_edited_and_refused_like_an_agents(
    demo_db_any_backend: DemoDatabase, dashboard: AppFactory
) -> None:
    demo_db = demo_db_any_backend
    team_id = stored_teams(demo_db)[DEMO_TEAM_NAME]["id"]
    prefix = f"team{team_id}_"
    app = open_page(dashboard, demo_db.quick_token(MANAGER), PAGE)
    # A team's type inherits each member's own rules; the form says so.
    assert any(c.label.startswith("Minimum notice (minutes): use each member's setting") for c in app.checkbox)

    create = f"FormSubmitter:create_team_type_{team_id}-Create meeting type"
    app.text_input(key=f"{prefix}new_type_name").input("Enterprise call")
    app.number_input(key=f"{prefix}new_type_minutes").set_value(45)
    app.text_input(key=f"{prefix}new_type_reminders").input("60, soon")
    app.button(key=create).click().run()
    assert [e.value for e in app.error] == [
        "Not saved: reminder_minutes must be a whole number from 0 to 43200, got 'soon'"
    ]
    assert set(team_types(demo_db, team_id)) == {DEMO_TEAM_TYPE}

    app.text_input(key=f"{prefix}new_type_reminders").input("60")
    app.checkbox(key=f"{prefix}new_type_rules_buffer_before_minutes_inherit").uncheck()
    app.number_input(key=f"{prefix}new_type_rules_buffer_before_minutes").set_value(10)
    app.button(key=create).click().run()
    assert not app.error, [e.value for e in app.error]
    created = team_types(demo_db, team_id)["Enterprise call"]
    assert (created["minutes"], created["buffer"]) == (45, 10)

    type_id = created["id"]
    app.text_input(key=f"{prefix}type_name_{type_id}").input("Enterprise deep dive")
    app.button(key=f"FormSubmitter:{prefix}edit_type_{type_id}-Save changes").click().run()
    assert not app.error, [e.value for e in app.error]
    assert "Enterprise deep dive" in team_types(demo_db, team_id)
    table = [d.value for d in app.dataframe if "position" in d.value.columns]
    assert [list(t["name"]) for t in table] == [[DEMO_TEAM_TYPE, "Enterprise deep dive"]]

    app.checkbox(key=f"{prefix}type_delete_ok_{type_id}").check().run()
    app.button(key=f"{prefix}type_delete_{type_id}").click().run()
    assert set(team_types(demo_db, team_id)) == {DEMO_TEAM_TYPE}


def test_a_member_whose_google_grant_was_revoked_is_named(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    with session_scope(demo_db.sessions) as session:
        session.add(
            CalendarConnection(
                agent_id=demo_db.agent_id(JAMES), account_email="james@example.com", status=STATUS_NEEDS_RECONNECT
            )
        )
    app = open_page(dashboard, demo_db.quick_token(MANAGER), PAGE)
    warnings = [w.value for w in app.warning if "reconnecting" in w.value]
    assert len(warnings) == 1
    assert "bookings of James Carter are written locally only" in warnings[0]


def test_the_funnel_filters_by_team(demo_db_any_backend: DemoDatabase, dashboard: AppFactory) -> None:
    demo_db = demo_db_any_backend
    team_id = stored_teams(demo_db)[DEMO_TEAM_NAME]["id"]
    app = open_page(dashboard, demo_db.quick_token(MANAGER))
    everyone = frame(app, "funnel_steps")
    app.selectbox(key="funnel_team").set_value(team_id).run()
    assert not app.error, [e.value for e in app.error]
    shown = frame(app, "funnel_steps")
    start, end = app.date_input(key="funnel_dates").value
    with session_scope(demo_db.sessions) as session:
        expected = funnel(
            session,
            start=datetime.combine(start, time(0), tzinfo=UTC),
            end=datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC),
            team_id=team_id,
        )
    assert [row["sessions"] for row in shown] == [step.sessions for step in expected.steps]
    assert 0 < shown[0]["sessions"] < everyone[0]["sessions"]
    # With the team picked, the meeting types are the team's.
    assert app.selectbox(key=f"funnel_team_type_{team_id}").options == ["All meeting types", DEMO_TEAM_TYPE]
    # An agent's funnel has no team filter.
    agent = open_page(dashboard, demo_db.quick_token(OLA))
    assert not [s for s in agent.selectbox if s.key == "funnel_team"]

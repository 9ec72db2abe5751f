"""The dashboard app (dashboard/app.py) driven by Streamlit's AppTest on a copy of the demo database.

Every page renders for a manager and an agent; signing in is required and checked; an agent's pages
show only their own data; what the forms save is what the services store, and refused input saves
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from shared.accounts.scoped import contacts as scoped_contacts
from shared.db import session_scope
from shared.models import STATUS_CONFIRMED, Agent, Booking, DashboardSession, MeetingType, OutboxJob
from shared.models.outbox import JOB_DONE
from tests.dashboard.conftest import JAMES, MANAGER, OLA, AppFactory, DemoDatabase

PAGES = {
    "views/funnel.py": "Booking funnel",
    "views/users.py": "Users",
    "views/calendars.py": "Calendars",
    "views/settings.py": None,  # "Calendar settings" for a manager, "My calendar & settings" for an agent
    "views/meeting_types.py": "Meeting types",
    "views/outbox.py": "Outbox",
    "views/account.py": "Account",
    "views/team.py": "Team",  # managers only
}


def open_page(dashboard: AppFactory, token: str | None, page: str = "views/funnel.py") -> AppTest:
    app = dashboard(token).run()
    if page != "views/funnel.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


# Tables are found by a column only they have (AppTest does not expose the key of a read-only table).
TABLES = {
    "upcoming_bookings": "invitee time zone",
    "meeting_types_table": "position",
    "outbox_jobs": "last error",
    "contacts_table": "last seen",
    "funnel_steps": "drop-off rate",
    "funnel_medians": "median",
}


def frame(app: AppTest, table: str) -> list[dict[str, object]]:
    matches = [d.value for d in app.dataframe if TABLES[table] in d.value.columns]
    assert len(matches) == 1, f"expected one {table!r} table on the page, found {len(matches)}"
    return list(matches[0].to_dict("records"))


def texts(app: AppTest) -> str:
    kinds = ("markdown", "text", "caption", "code", "error", "warning", "success", "info")
    parts = [e.value for kind in kinds for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def no_raw_html(app: AppTest) -> None:
    """Nothing on the page is rendered as raw HTML (user text is only ever shown escaped)."""
    for element in [*app.markdown, *app.caption]:
        assert not element.proto.allow_html, element.value
    assert not app.get("html"), "st.html renders raw HTML"


# --- every page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [MANAGER, OLA])
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_with_demo_data(demo_db: DemoDatabase, dashboard: AppFactory, page: str, who: str) -> None:
    if page == "views/team.py" and who != MANAGER:
        app = dashboard(demo_db.quick_token(who)).run()
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(page)
        return
    app = open_page(dashboard, demo_db.quick_token(who), page)

    expected = PAGES[page] or ("Calendar settings" if who == MANAGER else "My calendar & settings")
    assert [t.value for t in app.title] == [expected]
    assert not app.error, [e.value for e in app.error]
    no_raw_html(app)
    assert any(who in str(text.value) for text in app.sidebar.get("text"))


# --- signing in --------------------------------------------------------------------------------------


def test_without_a_session_only_the_sign_in_page_exists(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    for token in (None, "not-a-session-token"):
        app = dashboard(token).run()
        assert [t.value for t in app.title] == ["Meetings dashboard"]
        assert not app.dataframe
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page("views/funnel.py")
        assert "auth_token" not in app.session_state


def test_sign_in_as_the_demo_manager_then_log_out(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    app = dashboard().run()
    app.text_input(key="login_email").input("manager@example.com")
    app.text_input(key="login_password").input("demo")
    app.button(key="FormSubmitter:login-Sign in").click().run()

    assert [t.value for t in app.title] == ["Booking funnel"]
    with session_scope(demo_db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DashboardSession)) == 1

    app.button(key="logout").click().run()
    assert [t.value for t in app.title] == ["Meetings dashboard"]
    with session_scope(demo_db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DashboardSession)) == 0


@pytest.mark.parametrize(("email", "password"), [("manager@example.com", "wrong"), ("who@example.com", "demo")])
def test_a_wrong_password_or_email_is_refused(
    demo_db: DemoDatabase, dashboard: AppFactory, email: str, password: str
) -> None:
    app = dashboard().run()
    app.text_input(key="login_email").input(email)
    app.text_input(key="login_password").input(password)
    app.button(key="FormSubmitter:login-Sign in").click().run()

    assert [e.value for e in app.error] == ["Sign-in refused: wrong email or password."]
    assert [t.value for t in app.title] == ["Meetings dashboard"]
    with session_scope(demo_db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DashboardSession)) == 0


def test_an_expired_session_is_signed_out(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    token = demo_db.quick_token(MANAGER)
    with session_scope(demo_db.sessions) as session:
        for row in session.scalars(select(DashboardSession)):
            row.expires_at = datetime.now(UTC)
    app = dashboard(token).run()
    assert [t.value for t in app.title] == ["Meetings dashboard"]


# --- an agent sees only their own data ---------------------------------------------------------------


@pytest.mark.parametrize("smuggled", [False, True])
def test_an_agents_pages_show_only_their_own_data(demo_db: DemoDatabase, dashboard: AppFactory, smuggled: bool) -> None:
    ola, james = demo_db.agent_id(OLA), demo_db.agent_id(JAMES)
    token = demo_db.quick_token(OLA)

    def page(path: str) -> AppTest:
        app = dashboard(token)
        if smuggled:  # as if the browser had picked James in the (manager's) agent selector
            app.session_state["picked_agent_id"] = james
        app.run()
        if path != "views/funnel.py":
            app.switch_page(path).run()
        assert not app.exception
        return app

    with session_scope(demo_db.sessions) as session:
        ola_link = session.get(Agent, ola).link  # type: ignore[union-attr]
        james_link = session.get(Agent, james).link  # type: ignore[union-attr]
        ola_upcoming = set(
            session.scalars(
                select(Booking.id).where(
                    Booking.agent_id == ola,
                    Booking.status == STATUS_CONFIRMED,
                    Booking.end_at > datetime.now(UTC),
                )
            )
        )
        ola_types = list(
            session.scalars(select(MeetingType.name).where(MeetingType.agent_id == ola).order_by(MeetingType.position))
        )

    calendars = page("views/calendars.py")
    assert "agent_picker" not in [s.key for s in calendars.selectbox]
    assert {row["id"] for row in frame(calendars, "upcoming_bookings")} == ola_upcoming

    settings = page("views/settings.py")
    assert ola_link in texts(settings)
    assert james_link not in texts(settings)

    types = page("views/meeting_types.py")
    assert [row["name"] for row in frame(types, "meeting_types_table")] == ola_types

    outbox = page("views/outbox.py")
    assert {row["agent"] for row in frame(outbox, "outbox_jobs")} == {"Ola Nowak"}

    users = page("views/users.py")
    with session_scope(demo_db.sessions) as session:
        olas_contacts = scoped_contacts.search_contacts(
            session,
            actor=session.get(Agent, ola),
            query=None,  # type: ignore[arg-type]
        )
    assert [row["id"] for row in frame(users, "contacts_table")] == [c.id for c in olas_contacts]

    funnel = page("views/funnel.py")
    assert funnel.text_input(key="funnel_agent_self").value == "Ola Nowak"
    assert "funnel_agent" not in [s.key for s in funnel.selectbox]


# --- editing through the pages -----------------------------------------------------------------------


def _availability(demo_db: DemoDatabase, agent_id: int) -> dict[str, object]:
    with session_scope(demo_db.sessions) as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        a = agent.availability
        return {
            "timezone": a.timezone,
            "agent_timezone": agent.timezone,
            "weekly": a.weekly,
            "overrides": a.overrides,
            "min_notice_minutes": a.min_notice_minutes,
            "horizon_days": a.horizon_days,
            "buffer_before_minutes": a.buffer_before_minutes,
            "buffer_after_minutes": a.buffer_after_minutes,
            "slot_interval_minutes": a.slot_interval_minutes,
            "max_per_day": a.max_per_day,
        }


def test_saving_hours_and_rules_persists_them(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    ola = demo_db.agent_id(OLA)
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/settings.py")

    app.selectbox(key=f"timezone_{ola}").set_value("Europe/Berlin")
    app.text_input(key=f"weekly_{ola}_mon").input("8:00-11:00, 12:00-16:30")
    app.text_input(key=f"weekly_{ola}_sat").input("10:00 - 12:00")
    app.text_input(key=f"weekly_{ola}_fri").input("")
    app.number_input(key=f"notice_{ola}").set_value(120)
    app.number_input(key=f"horizon_{ola}").set_value(30)
    app.number_input(key=f"buffer_before_{ola}").set_value(10)
    app.number_input(key=f"buffer_after_{ola}").set_value(5)
    app.number_input(key=f"interval_{ola}").set_value(15)
    app.number_input(key=f"max_per_day_{ola}").set_value(3)
    app.text_area(key=f"overrides_{ola}").input("2030-01-03: 10:00-12:00\n2030-01-02: off\n")
    app.button(key=f"FormSubmitter:availability_{ola}-Save hours and rules").click().run()

    assert not app.error, [e.value for e in app.error]
    assert [s.value for s in app.success] == ["Hours and booking rules saved."]
    saved = _availability(demo_db, ola)
    assert saved["timezone"] == saved["agent_timezone"] == "Europe/Berlin"
    assert saved["weekly"] == {
        "mon": [["08:00", "11:00"], ["12:00", "16:30"]],
        "tue": [["09:00", "12:00"], ["13:00", "17:00"]],
        "wed": [["09:00", "12:00"], ["13:00", "17:00"]],
        "thu": [["09:00", "12:00"], ["13:00", "17:00"]],
        "fri": [],
        "sat": [["10:00", "12:00"]],
        "sun": [],
    }
    assert saved["overrides"] == [
        {"date": "2030-01-02", "windows": []},
        {"date": "2030-01-03", "windows": [["10:00", "12:00"]]},
    ]
    assert (
        saved["min_notice_minutes"],
        saved["horizon_days"],
        saved["buffer_before_minutes"],
        saved["buffer_after_minutes"],
        saved["slot_interval_minutes"],
        saved["max_per_day"],
    ) == (120, 30, 10, 5, 15, 3)
    # The form shows what was stored.
    assert app.text_input(key=f"weekly_{ola}_mon").value == "08:00-11:00, 12:00-16:30"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("weekly_mon", "09:00-12:00, 11:00-13:00", "windows 09:00–12:00 and 11:00–13:00 overlap"),
        ("weekly_tue", "17:00-09:00", "end 09:00 must be after start 17:00"),
        ("weekly_wed", "all day long", 'Wednesday: write hours as "09:00-12:00, 13:00-17:00"'),
        ("weekly_thu", "09:00-25:00", 'end must be "HH:MM"'),
        ("overrides", "2030-02-30: off", "date must be a real date"),
        ("timezone", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("interval", 1, "slot_interval_minutes must be a whole number from 5 to 480"),
    ],
)
def test_invalid_hours_are_refused_and_nothing_is_saved(
    demo_db: DemoDatabase, dashboard: AppFactory, field: str, value: object, reason: str
) -> None:
    ola = demo_db.agent_id(OLA)
    before = _availability(demo_db, ola)
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/settings.py")
    # Something valid changed too: it must not be saved either.
    app.number_input(key=f"notice_{ola}").set_value(60)
    key = f"{field.replace('weekly_', 'weekly_' + str(ola) + '_')}" if field.startswith("weekly_") else f"{field}_{ola}"
    if field == "timezone":
        # Typed into the box (accept_new_options): the browser sends the text as the chosen option.
        box = app.selectbox(key=key)
        box.options.append(str(value))
        box.set_value(value)
    elif field == "interval":
        app.number_input(key=key).set_value(value)
    elif field == "overrides":
        app.text_area(key=key).input(str(value))
    else:
        app.text_input(key=key).input(str(value))
    app.button(key=f"FormSubmitter:availability_{ola}-Save hours and rules").click().run()

    errors = [e.value for e in app.error]
    assert len(errors) == 1
    assert errors[0].startswith("Not saved: ")
    assert reason in errors[0]
    assert not app.success
    assert _availability(demo_db, ola) == before


def test_rotating_the_link_needs_the_warning_acknowledged(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    ola = demo_db.agent_id(OLA)
    with session_scope(demo_db.sessions) as session:
        old = session.get(Agent, ola).link  # type: ignore[union-attr]
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/settings.py")
    assert "The old link stops working at once" in texts(app)
    assert app.button(key=f"rotate_{ola}").disabled

    app.checkbox(key=f"rotate_ok_{ola}").check().run()
    app.button(key=f"rotate_{ola}").click().run()

    with session_scope(demo_db.sessions) as session:
        new = session.get(Agent, ola).link  # type: ignore[union-attr]
    assert new != old
    assert new in texts(app)
    assert old not in texts(app)


def test_google_calendar_not_configured_says_how_to_connect(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/settings.py")
    shown = texts(app)
    assert "No calendar connected" in shown
    for variable in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_REDIRECT_URI"):
        assert variable in shown
    assert not [b for b in app.button if b.key and b.key.startswith("connect_")]


def _types(demo_db: DemoDatabase, agent_id: int) -> list[tuple[str, int, bool, str, bool]]:
    with session_scope(demo_db.sessions) as session:
        rows = session.scalars(
            select(MeetingType).where(MeetingType.agent_id == agent_id).order_by(MeetingType.position, MeetingType.id)
        )
        return [(m.name, m.duration_minutes, m.active, m.description, m.deleted_at is not None) for m in rows]


def test_meeting_types_are_created_edited_reordered_toggled_and_deleted(
    demo_db: DemoDatabase, dashboard: AppFactory
) -> None:
    ola = demo_db.agent_id(OLA)
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/meeting_types.py")
    with session_scope(demo_db.sessions) as session:
        demo_id, onboarding_id, assistance_id = session.scalars(
            select(MeetingType.id).where(MeetingType.agent_id == ola).order_by(MeetingType.position)
        ).all()

    app.text_input(key="new_type_name").input("Pricing <call>")
    app.number_input(key="new_type_minutes").set_value(20)
    app.text_area(key="new_type_description").input("Plans & prices")
    app.button(key=f"FormSubmitter:create_type_{ola}-Create meeting type").click().run()
    assert [s.value for s in app.success] == ["Meeting type created."]

    app.text_input(key=f"type_name_{demo_id}").input("Product demo")
    app.number_input(key=f"type_minutes_{demo_id}").set_value(40)
    app.button(key=f"FormSubmitter:edit_type_{demo_id}-Save changes").click().run()
    app.button(key=f"type_down_{demo_id}").click().run()
    app.button(key=f"type_toggle_{assistance_id}").click().run()
    app.checkbox(key=f"type_delete_ok_{onboarding_id}").check().run()
    app.button(key=f"type_delete_{onboarding_id}").click().run()
    assert not app.error, [e.value for e in app.error]

    assert _types(demo_db, ola) == [
        ("Onboarding", 45, False, "Set-up help for new customers: accounts, integrations, first steps.", True),
        ("Product demo", 40, True, "A walk through the product, tailored to your team.", False),
        ("Assistance", 15, False, "A quick call to solve one problem.", False),
        ("Pricing <call>", 20, True, "Plans & prices", False),
    ]
    listed = [row["name"] for row in frame(app, "meeting_types_table")]
    assert listed == ["Product demo", "Assistance", "Pricing <call>"]
    no_raw_html(app)


@pytest.mark.parametrize(
    ("name", "minutes", "reason"),
    [
        ("", 30, "name is required"),
        ("   ", 30, "name is required"),
        ("Marathon", 500, "duration_minutes must be a whole number from 5 to 480, got 500"),
        ("Blink", 4, "duration_minutes must be a whole number from 5 to 480, got 4"),
    ],
)
def test_invalid_meeting_types_are_refused_and_nothing_is_saved(
    demo_db: DemoDatabase, dashboard: AppFactory, name: str, minutes: int, reason: str
) -> None:
    ola = demo_db.agent_id(OLA)
    before = _types(demo_db, ola)
    with session_scope(demo_db.sessions) as session:
        demo_id = session.scalars(select(MeetingType.id).where(MeetingType.agent_id == ola)).first()
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/meeting_types.py")

    app.text_input(key="new_type_name").input(name)
    app.number_input(key="new_type_minutes").set_value(minutes)
    app.button(key=f"FormSubmitter:create_type_{ola}-Create meeting type").click().run()
    assert [e.value for e in app.error] == [f"Not saved: {reason}"]

    app.text_input(key=f"type_name_{demo_id}").input(name)
    app.number_input(key=f"type_minutes_{demo_id}").set_value(minutes)
    app.button(key=f"FormSubmitter:edit_type_{demo_id}-Save changes").click().run()
    assert [e.value for e in app.error] == [f"Not saved: {reason}"]

    assert _types(demo_db, ola) == before


def test_a_manager_edits_any_agents_meeting_types(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    james = demo_db.agent_id(JAMES)
    app = open_page(dashboard, demo_db.quick_token(MANAGER), "views/meeting_types.py")
    app.selectbox(key="agent_picker").set_value(james).run()
    app.text_input(key="new_type_name").input("Security review")
    app.button(key=f"FormSubmitter:create_type_{james}-Create meeting type").click().run()
    assert ("Security review", 30, True, "", False) in _types(demo_db, james)


# --- calendars ------------------------------------------------------------------------------------


def test_cancelling_a_booking_asks_for_confirmation(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/calendars.py")
    assert app.get("plotly_chart")
    booking_id = frame(app, "upcoming_bookings")[0]["id"]

    app.selectbox(key="cancel_booking_id").set_value(booking_id)
    app.text_input(key="cancel_reason").input("Agent is ill")
    app.button(key="FormSubmitter:cancel_form-Cancel booking…").click().run()
    assert any("This cannot be undone" in w.value for w in app.warning)
    app.button(key="cancel_keep").click().run()
    with session_scope(demo_db.sessions) as session:
        assert session.get(Booking, booking_id).status == STATUS_CONFIRMED  # type: ignore[union-attr]

    app.button(key="FormSubmitter:cancel_form-Cancel booking…").click().run()
    app.button(key="cancel_confirm").click().run()

    assert [s.value for s in app.success] == ["Booking cancelled."]
    with session_scope(demo_db.sessions) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        assert (booking.status, booking.cancel_reason) == ("cancelled", "Agent is ill")
    assert booking_id not in {row["id"] for row in frame(app, "upcoming_bookings")}


# --- outbox ----------------------------------------------------------------------------------------


def test_a_failed_job_is_shown_with_its_error_and_retried(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    with session_scope(demo_db.sessions) as session:
        job = session.scalars(select(OutboxJob).order_by(OutboxJob.id)).first()
        assert job is not None
        # It gave up: every attempt it was allowed was used.
        job.status, job.attempts, job.last_error = "failed", job.max_attempts, "SMTP said 554 <no thanks>"
        job_id, max_attempts = job.id, job.max_attempts
        session.add(OutboxJob(kind="calendar.insert", status=JOB_DONE, attempts=1))
    app = open_page(dashboard, demo_db.quick_token(MANAGER), "views/outbox.py")
    row = next(r for r in frame(app, "outbox_jobs") if r["id"] == job_id)
    assert (row["status"], row["attempts"], row["last error"]) == (
        "failed",
        f"{max_attempts}/{max_attempts}",
        "SMTP said 554 <no thanks>",
    )

    app.selectbox(key="retry_job_id").set_value(job_id)
    app.button(key="FormSubmitter:retry_form-Retry now").click().run()

    assert [s.value for s in app.success] == [f"Job #{job_id} queued again with fresh attempts."]
    with session_scope(demo_db.sessions) as session:
        job = session.get(OutboxJob, job_id)
        assert job is not None
        assert (job.status, job.attempts) == ("pending", 0)


def test_a_stored_email_is_shown_as_text_never_rendered(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    from shared.models import EmailMessage

    html = '<p>Hi <script>alert("x")</script><a href="javascript:alert(1)">**link**</a></p>'
    with session_scope(demo_db.sessions) as session:
        email = EmailMessage(
            to_address="eve@example.com",
            subject="New call: **Eve** <img src=x onerror=alert(1)>",
            text_body="Hello [click](javascript:alert(1)) *Eve*",
            html_body=html,
            ics="BEGIN:VCALENDAR",
        )
        session.add(email)
        session.flush()
        email_id = email.id
    app = open_page(dashboard, demo_db.quick_token(MANAGER), "views/outbox.py")
    app.selectbox(key="email_id").set_value(email_id).run()

    assert "Hello [click](javascript:alert(1)) *Eve*" in [t.value for t in app.text]
    assert html in [c.value for c in app.code]
    heading = next(h for h in app.subheader if "Eve" in h.value)
    assert heading.value.startswith(r"New call\: \*\*Eve\*\* \<img src\=x")
    no_raw_html(app)


# --- team ----------------------------------------------------------------------------------------------


def test_a_manager_adds_an_agent_who_can_then_sign_in(demo_db: DemoDatabase, dashboard: AppFactory) -> None:
    app = open_page(dashboard, demo_db.quick_token(MANAGER), "views/team.py")
    app.text_input(key="agent_name").input("Zoë O'Brien")
    app.text_input(key="agent_email").input("zoe@example.com")
    app.selectbox(key="agent_timezone").set_value("Europe/Dublin")
    app.text_input(key="agent_password").input("first password")
    app.button(key="FormSubmitter:add_agent-Add agent").click().run()
    assert not app.error, [e.value for e in app.error]

    zoe = demo_db.agent_id("zoe@example.com")
    assert demo_db.token("zoe@example.com", "first password")
    with session_scope(demo_db.sessions) as session:
        agent = session.get(Agent, zoe)
        assert agent is not None
        assert (agent.name, agent.timezone, agent.role) == ("Zoë O'Brien", "Europe/Dublin", "agent")
        assert [m.name for m in agent.meeting_types] == ["Demo", "Onboarding", "Assistance"]


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        ("not-an-email", "", "'not-an-email' is not an email address"),
        (OLA, "", "an agent with this email already exists"),
        ("new@example.com", "short", "at least 8 characters"),
    ],
)
def test_adding_an_invalid_agent_is_refused(
    demo_db: DemoDatabase, dashboard: AppFactory, email: str, password: str, reason: str
) -> None:
    with session_scope(demo_db.sessions) as session:
        before = session.scalar(select(func.count()).select_from(Agent))
    app = open_page(dashboard, demo_db.quick_token(MANAGER), "views/team.py")
    app.text_input(key="agent_name").input("Somebody")
    app.text_input(key="agent_email").input(email)
    app.text_input(key="agent_password").input(password)
    app.button(key="FormSubmitter:add_agent-Add agent").click().run()

    errors = [e.value for e in app.error]
    assert len(errors) == 1
    assert reason in errors[0]
    with session_scope(demo_db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Agent)) == before


# --- Google Calendar ---------------------------------------------------------------------------------

GOOGLE_ENV = {
    "GOOGLE_CLIENT_ID": "client-id.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "client-secret",
    "GOOGLE_REDIRECT_URI": "http://127.0.0.1:8000/oauth/google/callback",
}


def test_connecting_google_gives_a_consent_link_bound_to_the_agent(
    demo_db: DemoDatabase, dashboard: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GOOGLE_ENV.items():
        monkeypatch.setenv(name, value)
    ola = demo_db.agent_id(OLA)
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/settings.py")
    assert "GOOGLE_CLIENT_ID" not in texts(app)

    app.button(key=f"connect_{ola}").click().run()

    links = [b for b in app.get("link_button") if "Google" in b.value]
    assert len(links) == 1
    consent = links[0].proto.url
    assert consent.startswith("https://accounts.google.com/o/oauth2/auth?")
    for part in (
        "client_id=client-id.apps.googleusercontent.com",
        "code_challenge_method=S256",
        "state=",
        "access_type=offline",
        "login_hint=ola%40example.com",
    ):
        assert part in consent
    with session_scope(demo_db.sessions) as session:
        from shared.models import OAuthState

        assert [s.agent_id for s in session.scalars(select(OAuthState))] == [ola]


def test_a_connection_that_needs_reconnecting_shows_its_error_and_can_be_disconnected(
    demo_db: DemoDatabase, dashboard: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.models import CalendarConnection

    for name, value in GOOGLE_ENV.items():
        monkeypatch.setenv(name, value)
    ola = demo_db.agent_id(OLA)
    with session_scope(demo_db.sessions) as session:
        session.add(
            CalendarConnection(
                agent_id=ola,
                account_email="ola@gmail.example",
                status="needs_reconnect",
                last_error="invalid_grant: Token has been expired or revoked.",
                busy_calendar_ids=["primary", "team"],
            )
        )
    app = open_page(dashboard, demo_db.quick_token(OLA), "views/settings.py")
    shown = texts(app)
    assert "Needs reconnecting" in shown
    assert "Last error: invalid_grant: Token has been expired or revoked." in shown
    status = {
        row[""]: row["value"] for row in [r for d in app.dataframe for r in d.value.to_dict("records")] if "" in row
    }
    assert status["Calendars read for busy times"] == "primary, team"
    assert [b.label for b in app.button if b.key == f"connect_{ola}"] == ["Reconnect Google Calendar"]

    app.checkbox(key=f"disconnect_ok_{ola}").check().run()
    app.button(key=f"disconnect_{ola}").click().run()

    assert [s.value for s in app.success] == ["Google Calendar disconnected."]
    with session_scope(demo_db.sessions) as session:
        connection = session.scalar(select(CalendarConnection).where(CalendarConnection.agent_id == ola))
        assert connection is not None
        assert (connection.status, connection.encrypted_tokens) == ("disconnected", None)


def test_back_from_google_the_agent_signs_in_and_lands_on_settings(
    demo_db: DemoDatabase, dashboard: AppFactory
) -> None:
    app = dashboard()
    app.query_params.update({"calendar": "error", "reason": "missing_permissions", "agent_id": "1"})
    app.run()
    app.text_input(key="login_email").input(OLA)
    app.text_input(key="login_password").input("demo")
    app.button(key="FormSubmitter:login-Sign in").click().run()

    assert [t.value for t in app.title] == ["My calendar & settings"]
    assert any("Meetings needs both permissions" in e.value for e in app.error)

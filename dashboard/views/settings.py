"""An agent's booking link, Google Calendar connection, and hours and booking rules."""

from datetime import UTC, datetime
from zoneinfo import available_timezones

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.components import runtime
from dashboard.components.hours import format_overrides, format_windows, parse_overrides, parse_windows
from dashboard.components.pickers import AGENT_KEY, pick_agent
from dashboard.components.text import md, when
from shared.accounts.scoped import agents as scoped_agents
from shared.accounts.scoped import calendars as scoped_calendars
from shared.agents.schemas import AvailabilityInput
from shared.availability.rules import WEEKDAYS
from shared.locales import LOCALE_NAMES, LOCALES
from shared.models import Availability
from shared.models.calendar import STATUS_CONNECTED, STATUS_DISCONNECTED, STATUS_NEEDS_RECONNECT

DAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)

CONSENT_OUTCOMES = {
    "access_denied": "Google Calendar was not connected: access was declined on Google's consent screen.",
    "missing_permissions": (
        "Google Calendar was not connected: Meetings needs both permissions (see busy times, write events). "
        "Connect again and leave both ticked."
    ),
    "token_exchange_failed": "Google Calendar was not connected: Google refused the sign-in code. Please try again.",
}

user = runtime.user()
settings = runtime.settings()
st.title("My calendar & settings" if not user.is_manager else "Calendar settings")
runtime.show_flash()

outcome = st.session_state.pop(runtime.CALENDAR_OUTCOME_KEY, None) or (
    st.query_params.to_dict() if st.query_params.get("calendar") else None
)
if outcome:
    if outcome.get("calendar") == "connected":
        st.success("Google Calendar connected.")
    else:
        reason = str(outcome.get("reason", ""))
        st.error(CONSENT_OUTCOMES.get(reason, "Google Calendar was not connected. Please try again."))
    if str(outcome.get("agent_id", "")).isdigit():
        st.session_state[AGENT_KEY] = int(outcome["agent_id"])
    st.query_params.clear()

with runtime.db() as session:
    agent = pick_agent(session, user)
    agent_id, agent_name, link, agent_locale = agent.id, agent.name, agent.link, agent.locale
    availability = agent.availability
    current = {
        "timezone": availability.timezone,
        "weekly": {day: list(availability.weekly.get(day, [])) for day in WEEKDAYS},
        "min_notice_minutes": availability.min_notice_minutes,
        "horizon_days": availability.horizon_days,
        "buffer_before_minutes": availability.buffer_before_minutes,
        "buffer_after_minutes": availability.buffer_after_minutes,
        "slot_interval_minutes": availability.slot_interval_minutes,
        "max_per_day": availability.max_per_day,
        "overrides": list(availability.overrides or []),
        "change_cutoff_minutes": availability.change_cutoff_minutes,
    }
    calendar = scoped_calendars.calendar_status(session, actor=user, agent_id=agent_id, settings=settings)

# --- booking link ------------------------------------------------------------------------------------
st.header("Booking link")
st.caption(
    "Paste it into a chat message (it becomes the booking widget in the bubble) or an email (it opens the "
    "booking page). Use the copy icon on the right."
)
st.code(settings.booking_url(link), language=None)
with st.expander("Rotate the link"):
    st.warning(
        "Rotating creates a new link. **The old link stops working at once**: links already sent in chats "
        "and emails will answer 'not found'. Bookings already made are not affected."
    )
    understood = st.checkbox("I understand that the old link stops working", key=f"rotate_ok_{agent_id}")
    if st.button("Rotate link", disabled=not understood, key=f"rotate_{agent_id}"):
        runtime.act(
            lambda session: scoped_agents.rotate_link(session, actor=user, agent_id=agent_id),
            success="A new booking link was created; the old one no longer works.",
        )

# --- language ----------------------------------------------------------------------------------------
st.header("Language of your emails")
st.caption(
    "New-call, reschedule and cancel emails to you use this language. Invitees get theirs in the language "
    "they booked in."
)
with st.form(f"agent_locale_{agent_id}"):
    chosen_locale = st.selectbox(
        "Language",
        options=list(LOCALES),
        index=list(LOCALES).index(agent_locale) if agent_locale in LOCALES else 0,
        format_func=lambda code: LOCALE_NAMES[code],
        key=f"agent_locale_select_{agent_id}",
    )
    if st.form_submit_button("Save language"):
        runtime.act(
            lambda session: scoped_agents.update_agent(
                session, actor=user, agent_id=agent_id, changes={"locale": chosen_locale}
            ),
            success="Language saved.",
        )

# --- Google Calendar ---------------------------------------------------------------------------------
st.header("Google Calendar")
if calendar.status == STATUS_CONNECTED:
    st.success(f"Connected as {md(calendar.account_email or 'an account whose email is unknown')}.")
elif calendar.status == STATUS_NEEDS_RECONNECT:
    st.error(
        "Needs reconnecting: Google no longer accepts the stored permission, so its busy times are not read "
        "and events are not written. Bookings keep working and are written once reconnected."
    )
    if calendar.last_error:
        st.text(f"Last error: {calendar.last_error}")
elif calendar.status == STATUS_DISCONNECTED:
    st.info(f"Disconnected{md(f' (was {calendar.account_email})') if calendar.account_email else ''}.")
else:
    st.info("No calendar connected: only bookings made here count as busy times.")
if calendar.status != scoped_calendars.NOT_CONNECTED:
    st.dataframe(
        [
            {"": "Status", "value": calendar.status},
            {"": "Account", "value": calendar.account_email or "—"},
            {"": "Calendars read for busy times", "value": ", ".join(calendar.busy_calendar_ids) or "—"},
            {"": "Bookings written to", "value": calendar.destination_calendar_id or "—"},
            {"": "Connected at", "value": when(calendar.connected_at, with_zone=True) or "—"},
        ],
        hide_index=True,
        key="calendar_status",
    )

if not calendar.google_configured:
    st.info(
        "Google Calendar is not configured on this server, so it cannot be connected yet. To enable it, set "
        "`GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET` and `GOOGLE_REDIRECT_URI` (the API's "
        f"`{settings.base_url.rstrip('/')}/oauth/google/callback`) in the environment of the API and the "
        "dashboard, then restart them."
    )
else:
    consent_key = f"consent_url_{agent_id}"
    reconnect = calendar.status in (STATUS_CONNECTED, STATUS_NEEDS_RECONNECT)
    connect_label = "Reconnect Google Calendar" if reconnect else "Connect Google Calendar"
    if st.button(connect_label, key=f"connect_{agent_id}"):
        url = runtime.act(
            lambda session: scoped_calendars.start_google_connect(
                session, actor=user, agent_id=agent_id, settings=settings, now=datetime.now(UTC)
            ),
            success=None,
        )
        if url:
            st.session_state[consent_key] = url
    if st.session_state.get(consent_key):
        st.link_button("Continue to Google to allow access →", st.session_state[consent_key], type="primary")
        st.caption("The link works once, for 10 minutes. Google sends you back here when done.")
    if calendar.status in (STATUS_CONNECTED, STATUS_NEEDS_RECONNECT):
        sure = st.checkbox("Disconnect: stop reading busy times and writing events", key=f"disconnect_ok_{agent_id}")
        if st.button("Disconnect Google Calendar", disabled=not sure, key=f"disconnect_{agent_id}"):
            runtime.act(
                lambda session: scoped_calendars.disconnect_google(
                    session, actor=user, agent_id=agent_id, settings=settings
                ),
                success="Google Calendar disconnected.",
            )

# --- hours and rules ---------------------------------------------------------------------------------
st.header("Hours and booking rules")
st.caption(
    f"{md(agent_name)}'s wall-clock time: 09:00 stays 09:00 across daylight-saving changes. Several windows a "
    "day are separated by commas, e.g. `09:00-12:00, 13:00-17:00`; leave a day empty for no calls."
)
zones = sorted(available_timezones())
with st.form(f"availability_{agent_id}"):
    timezone = st.selectbox(
        "Time zone",
        zones,
        index=zones.index(current["timezone"]) if current["timezone"] in zones else None,
        accept_new_options=True,
        key=f"timezone_{agent_id}",
    )
    day_columns = st.columns(2)
    weekly_text = {}
    for index, day in enumerate(WEEKDAYS):
        weekly_text[day] = day_columns[index % 2].text_input(
            DAY_NAMES[day],
            value=format_windows(current["weekly"][day]),
            key=f"weekly_{agent_id}_{day}",
            placeholder="no calls",
        )
    rule_columns = st.columns(3)
    min_notice = rule_columns[0].number_input(
        "Minimum notice (minutes)",
        min_value=0,
        value=current["min_notice_minutes"],
        step=30,
        key=f"notice_{agent_id}",
    )
    horizon = rule_columns[1].number_input(
        "Booking horizon (days ahead)", min_value=1, value=current["horizon_days"], step=1, key=f"horizon_{agent_id}"
    )
    interval = rule_columns[2].number_input(
        "Slot interval (minutes)",
        min_value=1,
        value=current["slot_interval_minutes"],
        step=5,
        key=f"interval_{agent_id}",
    )
    buffer_before = rule_columns[0].number_input(
        "Buffer before (minutes)",
        min_value=0,
        value=current["buffer_before_minutes"],
        step=5,
        key=f"buffer_before_{agent_id}",
    )
    buffer_after = rule_columns[1].number_input(
        "Buffer after (minutes)",
        min_value=0,
        value=current["buffer_after_minutes"],
        step=5,
        key=f"buffer_after_{agent_id}",
    )
    max_per_day = rule_columns[2].number_input(
        "Daily maximum of bookings (0 = no maximum)",
        min_value=0,
        value=current["max_per_day"] or 0,
        step=1,
        key=f"max_per_day_{agent_id}",
    )
    change_cutoff = rule_columns[0].number_input(
        "Change cut-off (minutes before the start; 0 = none)",
        min_value=0,
        value=current["change_cutoff_minutes"],
        step=30,
        key=f"change_cutoff_{agent_id}",
        help="Within this many minutes of the start, invitees can no longer cancel or reschedule "
        "themselves; you can still cancel here.",
    )
    overrides_text = st.text_area(
        "Date overrides (one per line: `2026-12-24: off` or `2026-12-27: 10:00-13:00, 14:00-16:00`)",
        value=format_overrides(current["overrides"]),
        key=f"overrides_{agent_id}",
        height=120,
    )
    save = st.form_submit_button("Save hours and rules", type="primary")

if save:

    def save_availability(session: Session) -> Availability:
        data = AvailabilityInput(
            timezone=str(timezone or ""),
            weekly={day: parse_windows(text, where=DAY_NAMES[day]) for day, text in weekly_text.items()},
            min_notice_minutes=int(min_notice),
            horizon_days=int(horizon),
            buffer_before_minutes=int(buffer_before),
            buffer_after_minutes=int(buffer_after),
            slot_interval_minutes=int(interval),
            max_per_day=int(max_per_day) or None,
            overrides=parse_overrides(overrides_text),
            change_cutoff_minutes=int(change_cutoff),
        )
        return scoped_agents.update_availability(session, actor=user, agent_id=agent_id, data=data)

    form_keys = [
        f"{name}_{agent_id}"
        for name in (
            "timezone",
            "notice",
            "horizon",
            "interval",
            "buffer_before",
            "buffer_after",
            "max_per_day",
            "change_cutoff",
            "overrides",
        )
    ] + [f"weekly_{agent_id}_{day}" for day in WEEKDAYS]
    runtime.act(save_availability, success="Hours and booking rules saved.", reset_widgets=form_keys)

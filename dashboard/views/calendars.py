"""Per agent: the week (hours offered, bookings, Google busy times), upcoming bookings, cancel."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard.components import charts, runtime
from dashboard.components.pickers import pick_agent
from dashboard.components.text import md, when
from shared.accounts.scoped import bookings as scoped_bookings
from shared.accounts.scoped import calendars as scoped_calendars
from shared.agents.locations import KIND_LABELS

CONFIRM_KEY = "cancel_booking_pending"

user = runtime.user()
st.title("Calendars")
runtime.show_flash()

now = datetime.now(UTC)
with runtime.db() as session:
    agent = pick_agent(session, user)
    agent_id, agent_name, zone_name = agent.id, agent.name, agent.availability.timezone
    local_today = now.astimezone(ZoneInfo(zone_name)).date()
    picked = st.date_input("Week of", value=local_today, key=f"week_of_{agent_id}")
    day = picked if isinstance(picked, date) else local_today
    week_start = day - timedelta(days=day.weekday())
    week = scoped_calendars.week_view(
        session, actor=user, agent_id=agent_id, week_start=week_start, calendar_busy=runtime.calendar_busy_source()
    )
    upcoming = [
        {
            "id": b.id,
            "when": when(b.start_at, zone_name),
            "ends": when(b.end_at, zone_name)[-5:],
            "meeting type": b.meeting_type.name,
            "name": f"{b.first_name} {b.last_name}",
            "company": b.company_name,
            "email": b.email,
            "phone": b.phone or "",
            "where": b.join_url or b.location_value or KIND_LABELS.get(b.location_kind, ""),
            "invitee time zone": b.invitee_timezone,
            "description": b.description,
        }
        for b in scoped_bookings.upcoming_bookings(session, actor=user, agent_id=agent_id, now=now)
    ]

st.subheader(md(f"{agent_name} · week of {week_start:%d %b %Y}"))
st.caption(f"Times in the agent's time zone, {zone_name}.")
if week.busy_problem:
    st.warning(f"{week.busy_problem}: reconnect it under settings.")
st.plotly_chart(charts.week_figure(week), key="week_chart")
bookings_this_week = len({b.booking_id for b in week.blocks if b.kind == scoped_calendars.KIND_BOOKING})
st.caption(f"{bookings_this_week} confirmed booking(s) this week.")

st.subheader("Upcoming bookings")
if not upcoming:
    st.info("No upcoming bookings.")
    st.stop()
st.dataframe(upcoming, hide_index=True, key="upcoming_bookings")

labels = {row["id"]: f"{row['when']} · {row['meeting type']} · {row['name']} ({row['company']})" for row in upcoming}
with st.form("cancel_form"):
    st.markdown("**Cancel a booking**")
    booking_id = st.selectbox("Booking", list(labels), format_func=labels.__getitem__, key="cancel_booking_id")
    reason = st.text_input("Reason (sent to the invitee)", key="cancel_reason", max_chars=500)
    if st.form_submit_button("Cancel booking…"):
        st.session_state[CONFIRM_KEY] = (booking_id, reason)

pending = st.session_state.get(CONFIRM_KEY)
if pending and pending[0] in labels:
    pending_id, pending_reason = pending
    st.warning(
        f"Cancel {md(labels[pending_id])}? The invitee and the agent are told by email and the calendar "
        "event is removed. This cannot be undone."
    )
    yes, no = st.columns(2)
    if yes.button("Yes, cancel the booking", type="primary", key="cancel_confirm"):
        del st.session_state[CONFIRM_KEY]
        runtime.act(
            lambda session: scoped_bookings.cancel_booking(
                session, actor=user, booking_id=pending_id, reason=pending_reason, now=datetime.now(UTC)
            ),
            success="Booking cancelled.",
        )
    if no.button("Keep it", key="cancel_keep"):
        del st.session_state[CONFIRM_KEY]
        st.rerun()

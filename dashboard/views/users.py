"""Users (contacts): search by email, name or company; a profile with booked times and the event timeline."""

import json

import streamlit as st

from dashboard.components import charts, runtime
from dashboard.components.privacy import contact_actions
from dashboard.components.text import md, when
from shared.accounts.scoped import contacts as scoped_contacts
from shared.errors import MeetingsError

user = runtime.user()
st.title("Users")
runtime.show_flash()
if not user.is_manager:
    st.caption("People who went through your booking widget or booked you.")

query = st.text_input("Search by email, name or company", key="contact_query", placeholder="e.g. acme or anna")
with runtime.db() as session:
    found = [
        {
            "id": c.id,
            "name": " ".join(part for part in (c.first_name, c.last_name) if part),
            "email": c.email or "",
            "company": c.company or "",
            "last seen": when(c.updated_at, with_zone=True),
        }
        for c in scoped_contacts.search_contacts(session, actor=user, query=query or None)
    ]

if not found:
    st.info("Nobody matches." if query else "No contacts yet.")
    st.stop()
st.dataframe(found, hide_index=True, key="contacts_table")

labels = {
    row["id"]: f"{row['name']} <{row['email']}>" + (f" · {row['company']}" if row["company"] else "") for row in found
}
contact_id = st.selectbox("Profile", list(labels), format_func=labels.__getitem__, key="contact_id")

try:
    with runtime.db() as session:
        profile = scoped_contacts.contact_profile(session, actor=user, contact_id=contact_id)
except MeetingsError as error:
    st.error(error.detail)
    st.stop()

full_name = " ".join(part for part in (profile.first_name, profile.last_name) if part) or "Anonymous visitor"
st.header(md(full_name))
details = st.columns(4)
details[0].caption("Email")
details[0].text(profile.email or "—")
details[1].caption("Company")
details[1].text(profile.company or "—")
details[2].caption("First seen")
details[2].text(when(profile.created_at, with_zone=True))
details[3].caption("Visitor ids")
details[3].text("\n".join(profile.visitor_ids) or "—")
contact_actions(user, contact_id)

st.subheader("Booked times")
if profile.bookings:
    st.dataframe(
        [
            {
                "when (invitee's zone)": when(b.start, b.invitee_timezone, with_zone=True),
                "meeting type": b.meeting_type_name,
                "minutes": b.duration_minutes,
                "agent": b.agent_name,
                "phone": b.phone or "",
                "status": b.status,
                "cancelled at": when(b.cancelled_at, with_zone=True),
                "booking": b.booking_id,
            }
            for b in profile.bookings
        ],
        hide_index=True,
        key="profile_bookings",
    )
else:
    st.caption("No bookings.")

st.subheader("Timeline")
if profile.timeline:
    st.dataframe(
        [
            {
                "when (UTC)": when(e.occurred_at),
                "event": e.name,
                "step": charts.STEP_LABELS.get(e.name, ""),
                "agent": e.agent_name or "",
                "meeting type": e.meeting_type_name or "",
                "chosen date": e.chosen_date or "",
                "chosen start (UTC)": when(e.chosen_start),
                "session": e.session_id or "",
                "attributes": json.dumps(e.attributes, ensure_ascii=False) if e.attributes else "",
            }
            for e in profile.timeline
        ],
        hide_index=True,
        key="profile_timeline",
    )
else:
    st.caption("No events.")

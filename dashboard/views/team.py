"""Managers: the team — agents with their calendar status and link; add an agent; passwords; activate."""

from zoneinfo import available_timezones

import streamlit as st

from dashboard.components import runtime
from shared.accounts.scoped import agents as scoped_agents
from shared.models.agent import ROLE_AGENT, ROLE_MANAGER

user = runtime.user()
settings = runtime.settings()
st.title("Team")
runtime.show_flash()
if not user.is_manager:  # not in an agent's navigation; the services refuse them anyway
    st.error("Only managers manage the team.")
    st.stop()

with runtime.db() as session:
    team = [
        {
            "id": a.id,
            "name": a.name,
            "email": a.email,
            "role": a.role,
            "active": a.active,
            "time zone": a.timezone,
            "can sign in": bool(a.password_hash),
            "calendar": a.calendar_connection.status if a.calendar_connection else "not connected",
            "booking link": settings.booking_url(a.link),
        }
        for a in scoped_agents.visible_agents(session, actor=user)
    ]
st.dataframe(team, hide_index=True, key="team_table")
names = {row["id"]: f"{row['name']} <{row['email']}>" for row in team}

st.header("Add an agent")
zones = sorted(available_timezones())
with st.form("add_agent"):
    name = st.text_input("Name", key="agent_name", max_chars=200)
    email = st.text_input("Email (their sign-in)", key="agent_email", max_chars=320)
    timezone = st.selectbox("Time zone", zones, index=zones.index("UTC"), key="agent_timezone")
    role = st.selectbox("Role", [ROLE_AGENT, ROLE_MANAGER], key="agent_role")
    password = st.text_input("Password (optional; they can change it)", type="password", key="agent_password")
    if st.form_submit_button("Add agent", type="primary"):
        runtime.act(
            lambda session: scoped_agents.create_agent(
                session,
                actor=user,
                name=name,
                email=email,
                timezone=str(timezone),
                role=str(role),
                password=password or None,
            ),
            success="Agent added with Mon–Fri 09:00–17:00 and the Demo, Onboarding and Assistance meeting types.",
        )

st.header("Passwords and access")
with st.form("set_password"):
    agent_id = st.selectbox("Agent", list(names), format_func=names.__getitem__, key="password_agent")
    new_password = st.text_input("New password", type="password", key="password_for_agent")
    if st.form_submit_button("Set password"):
        runtime.act(
            lambda session: scoped_agents.set_password(
                session, actor=user, agent_id=agent_id, new_password=new_password
            ),
            success="Password set; their open sessions were signed out.",
        )
with st.form("set_active"):
    target = st.selectbox("Agent", list(names), format_func=names.__getitem__, key="active_agent")
    active = st.radio("Access", ["active", "inactive"], horizontal=True, key="active_choice")
    st.caption("An inactive agent cannot sign in and their booking link answers 'not found'.")
    if st.form_submit_button("Apply"):
        runtime.act(
            lambda session: scoped_agents.set_active(session, actor=user, agent_id=target, active=active == "active"),
            success="Access updated.",
        )

"""Managers: teams (SPEC §15) — one booking link for several agents, their mode and members, the
link to copy and rotate, the team's meeting types, and which members' calendars need reconnecting."""

from datetime import UTC, datetime
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.components import runtime
from dashboard.components.text import md
from dashboard.components.type_editor import TypeActions, new_type_form, type_editors, type_item, types_table
from shared.accounts.scoped import agents as scoped_agents
from shared.accounts.scoped import teams as scoped_teams
from shared.agents.locations import google_connected
from shared.agents.schemas import MeetingTypeChanges
from shared.models.team import MODE_COLLECTIVE, MODE_ROUND_ROBIN, TEAM_MODES
from shared.teams.schemas import TeamChanges

MODE_LABELS = {
    MODE_ROUND_ROBIN: "Round robin: any free member takes the call",
    MODE_COLLECTIVE: "Collective: all members take the call together",
}
INHERIT_LABEL = "use each member's setting"
NO_GOOGLE_TEAM = (
    "Google Meet needs a connected Google Calendar for every member: the Meet link is created with the "
    "calendar event of whoever takes the call."
)


def reconnect_warning(name: str) -> str:
    return (
        f"{name}'s Google Calendar needs reconnecting: bookings of {name} are written locally only "
        "(no calendar event, and their Google busy times are not checked) until they reconnect under Settings."
    )


user = runtime.user()
settings = runtime.settings()
st.title("Teams")
runtime.show_flash()
if not user.is_manager:  # not in an agent's navigation; the services refuse them anyway
    st.error("Only managers manage teams.")
    st.stop()

with runtime.db() as session:
    active_agents = {
        a.id: f"{a.name} <{a.email}>" for a in scoped_agents.visible_agents(session, actor=user) if a.active
    }
    teams: list[dict[str, Any]] = []
    for team in scoped_teams.list_teams(session, actor=user):
        members = team.agents
        teams.append(
            {
                "id": team.id,
                "name": team.name,
                "mode": team.mode,
                "booking_url": settings.booking_url(team.link),
                "members": [
                    {"id": a.id, "name": a.name, "active": a.active, "needs_reconnect": a.needs_reconnect}
                    for a in members
                ],
                "connected": bool(members) and all(google_connected(session, agent_id=a.id) for a in members),
                "types": [type_item(m) for m in scoped_teams.list_meeting_types(session, actor=user, team_id=team.id)],
            }
        )

st.caption(
    "A team's booking link works wherever an agent's does: the widget, the hosted page and chat links. "
    "Round robin gives each booking to a free member (fewest team bookings in the last 30 days first); "
    "collective books every member together."
)
if teams:
    st.dataframe(
        [
            {
                "team": t["name"],
                "mode": t["mode"],
                "members": ", ".join(m["name"] for m in t["members"]),
                "meeting types": len(t["types"]),
                "team booking link": t["booking_url"],
            }
            for t in teams
        ],
        hide_index=True,
        key="teams_table",
    )
else:
    st.info("No teams yet: create one below.")


def team_actions(team_id: int) -> TypeActions:
    """The team's meeting types, changed through the scoped services (by type id, as a manager)."""

    def create(session: Session, fields: dict[str, Any]) -> object:
        return scoped_teams.create_meeting_type(session, actor=user, team_id=team_id, **fields)

    def update(session: Session, type_id: int, changes: MeetingTypeChanges) -> object:
        return scoped_agents.update_meeting_type(session, actor=user, meeting_type_id=type_id, changes=changes)

    def delete(session: Session, type_id: int) -> object:
        return scoped_agents.delete_meeting_type(session, actor=user, meeting_type_id=type_id, now=datetime.now(UTC))

    return TypeActions(create=create, update=update, delete=delete)


def member_picker(key: str, *, current: list[int]) -> list[int]:
    # A member who was deactivated stays listed (so saving does not drop them silently); the
    # service refuses an inactive member with its reason.
    options = [*active_agents, *(i for i in current if i not in active_agents)]
    return st.multiselect(
        "Members (in this order)",
        options,
        default=current,
        format_func=lambda i: active_agents.get(i, f"agent {i} (inactive)"),
        key=key,
    )


for team in teams:
    team_id = team["id"]
    with st.expander(f"{md(team['name'])} · {len(team['members'])} members · {team['mode']}", expanded=len(teams) == 1):
        for member in team["members"]:
            if member["needs_reconnect"]:
                st.warning(reconnect_warning(member["name"]))
            if not member["active"]:
                st.warning(f"{member['name']} is inactive: they take no team calls until reactivated.")

        st.subheader("Booking link")
        st.code(team["booking_url"], language=None)
        understood = st.checkbox("I understand that the old link stops working", key=f"team_rotate_ok_{team_id}")
        if st.button("Rotate link", disabled=not understood, key=f"team_rotate_{team_id}"):
            runtime.act(
                lambda session, team_id=team_id: scoped_teams.rotate_link(session, actor=user, team_id=team_id),
                success="A new team booking link was created; the old one no longer works.",
            )

        st.subheader("Name, mode and members")
        with st.form(f"edit_team_{team_id}"):
            name = st.text_input("Name", value=team["name"], key=f"team_name_{team_id}", max_chars=200)
            mode = st.radio(
                "Mode",
                TEAM_MODES,
                index=TEAM_MODES.index(team["mode"]),
                format_func=MODE_LABELS.__getitem__,
                key=f"team_mode_{team_id}",
            )
            member_ids = member_picker(f"team_members_{team_id}", current=[m["id"] for m in team["members"]])
            if st.form_submit_button("Save team", type="primary"):
                changes: TeamChanges = {"name": name, "mode": mode, "member_ids": list(member_ids)}
                runtime.act(
                    lambda session, team_id=team_id, changes=changes: scoped_teams.update_team(
                        session, actor=user, team_id=team_id, changes=changes, now=datetime.now(UTC)
                    ),
                    success="Team saved. Members who left keep the bookings they already have.",
                )

        st.subheader("Meeting types of this team")
        prefix = f"team{team_id}_"
        if team["types"]:
            types_table(team["types"], connected=team["connected"], key=f"team_types_table_{team_id}")
        else:
            st.info("No meeting types yet: the team's link offers nothing until one is created.")
        actions = team_actions(team_id)
        type_editors(
            team["types"],
            actions=actions,
            connected=team["connected"],
            inherited={},
            inherit_label=INHERIT_LABEL,
            no_google=NO_GOOGLE_TEAM,
            prefix=prefix,
        )
        st.markdown("**New meeting type**")
        new_type_form(
            f"create_team_type_{team_id}",
            actions=actions,
            connected=team["connected"],
            inherited={},
            inherit_label=INHERIT_LABEL,
            no_google=NO_GOOGLE_TEAM,
            prefix=prefix,
        )

        st.subheader("Delete the team")
        sure = st.checkbox("Really delete (its link stops working)", key=f"team_delete_ok_{team_id}")
        if st.button("Delete team", disabled=not sure, key=f"team_delete_{team_id}"):
            runtime.act(
                lambda session, team_id=team_id: scoped_teams.delete_team(
                    session, actor=user, team_id=team_id, now=datetime.now(UTC)
                ),
                success="Team deleted. Bookings made through it are kept.",
            )

st.header("New team")
with st.form("create_team"):
    new_name = st.text_input("Name", key="new_team_name", max_chars=200, placeholder="e.g. Sales team")
    new_mode = st.radio("Mode", TEAM_MODES, format_func=MODE_LABELS.__getitem__, key="new_team_mode")
    new_members = member_picker("new_team_members", current=[])
    if st.form_submit_button("Create team", type="primary"):
        runtime.act(
            lambda session: scoped_teams.create_team(
                session,
                actor=user,
                name=new_name,
                mode=new_mode,
                member_ids=list(new_members),
                now=datetime.now(UTC),
            ),
            success="Team created. Add its meeting types: a new team offers none.",
        )

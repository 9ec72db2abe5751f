"""An agent's meeting types: list, create, edit, delete, reorder, activate and deactivate."""

from datetime import UTC, datetime
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.components import runtime
from dashboard.components.pickers import pick_agent
from dashboard.components.type_editor import TypeActions, new_type_form, type_editors, type_item, types_table
from shared.accounts.scoped import agents as scoped_agents
from shared.agents.locations import google_connected
from shared.agents.schemas import DURATION_RANGE, MEETING_TYPE_RULE_FIELDS, MeetingTypeChanges

user = runtime.user()
st.title("Meeting types")
runtime.show_flash()

with runtime.db() as session:
    agent = pick_agent(session, user)
    agent_id = agent.id
    agent_rules = {field: getattr(agent.availability, field) for field in MEETING_TYPE_RULE_FIELDS}
    connected = google_connected(session, agent_id=agent_id)
    types = [type_item(m) for m in scoped_agents.list_meeting_types(session, actor=user, agent_id=agent_id)]


def create(session: Session, fields: dict[str, Any]) -> object:
    return scoped_agents.create_meeting_type(session, actor=user, agent_id=agent_id, **fields)


def update(session: Session, type_id: int, changes: MeetingTypeChanges) -> object:
    return scoped_agents.update_meeting_type(
        session, actor=user, agent_id=agent_id, meeting_type_id=type_id, changes=changes
    )


def delete(session: Session, type_id: int) -> object:
    return scoped_agents.delete_meeting_type(
        session, actor=user, agent_id=agent_id, meeting_type_id=type_id, now=datetime.now(UTC)
    )


def move(session: Session, type_id: int, offset: int) -> object:
    return scoped_agents.move_meeting_type(
        session, actor=user, agent_id=agent_id, meeting_type_id=type_id, offset=offset
    )


actions = TypeActions(create=create, update=update, delete=delete, move=move)

st.caption(
    f"Shown in this order in the booking widget; inactive types are hidden from it. Durations "
    f"{DURATION_RANGE[0]}–{DURATION_RANGE[1]} minutes."
)
if types:
    types_table(types, connected=connected, key="meeting_types_table")
else:
    st.info("No meeting types yet: the booking link offers nothing until one is created.")

type_editors(types, actions=actions, connected=connected, inherited=agent_rules)

st.header("New meeting type")
new_type_form(f"create_type_{agent_id}", actions=actions, connected=connected, inherited=agent_rules)

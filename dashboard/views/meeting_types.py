"""An agent's meeting types: list, create, edit, delete, reorder, activate and deactivate."""

from datetime import UTC, datetime

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.components import runtime
from dashboard.components.pickers import pick_agent
from dashboard.components.text import md
from dashboard.components.type_rules import rule_inputs
from shared.accounts.scoped import agents as scoped_agents
from shared.agents.schemas import DEFAULT_COLOUR, DURATION_RANGE, MEETING_TYPE_RULE_FIELDS, MeetingTypeChanges
from shared.models import MeetingType

user = runtime.user()
st.title("Meeting types")
runtime.show_flash()

with runtime.db() as session:
    agent = pick_agent(session, user)
    agent_id = agent.id
    agent_rules = {field: getattr(agent.availability, field) for field in MEETING_TYPE_RULE_FIELDS}
    types = [
        {
            "id": m.id,
            "name": m.name,
            "duration_minutes": m.duration_minutes,
            "description": m.description,
            "colour": m.colour,
            "active": m.active,
            **{field: getattr(m, field) for field in MEETING_TYPE_RULE_FIELDS},
        }
        for m in scoped_agents.list_meeting_types(session, actor=user, agent_id=agent_id)
    ]

st.caption(
    f"Shown in this order in the booking widget; inactive types are hidden from it. Durations "
    f"{DURATION_RANGE[0]}–{DURATION_RANGE[1]} minutes."
)
if types:
    st.dataframe(
        [
            {
                "position": index + 1,
                "name": t["name"],
                "minutes": t["duration_minutes"],
                "active": t["active"],
                "colour": t["colour"],
                "description": t["description"],
            }
            for index, t in enumerate(types)
        ],
        hide_index=True,
        key="meeting_types_table",
    )
else:
    st.info("No meeting types yet: the booking link offers nothing until one is created.")

for index, item in enumerate(types):
    type_id = item["id"]
    state = "" if item["active"] else " · inactive"
    with st.expander(f"{md(item['name'])} · {item['duration_minutes']} min{state}"):
        with st.form(f"edit_type_{type_id}"):
            name = st.text_input("Name", value=item["name"], key=f"type_name_{type_id}", max_chars=100)
            minutes = st.number_input(
                "Duration (minutes)",
                min_value=1,
                max_value=24 * 60,
                value=item["duration_minutes"],
                step=5,
                key=f"type_minutes_{type_id}",
            )
            description = st.text_area(
                "Description", value=item["description"], key=f"type_description_{type_id}", max_chars=2000
            )
            colour = st.color_picker("Colour", value=item["colour"], key=f"type_colour_{type_id}")
            active = st.checkbox("Active (offered in the widget)", value=item["active"], key=f"type_active_{type_id}")
            st.markdown("**Booking rules of this type**")
            rules = rule_inputs(key=f"type_rules_{type_id}", current=item, agent_values=agent_rules)
            if st.form_submit_button("Save changes", type="primary"):
                changes: MeetingTypeChanges = {
                    "name": name,
                    "duration_minutes": int(minutes),
                    "description": description,
                    "colour": colour,
                    "active": active,
                    "min_notice_minutes": rules["min_notice_minutes"],
                    "buffer_before_minutes": rules["buffer_before_minutes"],
                    "buffer_after_minutes": rules["buffer_after_minutes"],
                    "max_per_day": rules["max_per_day"],
                }

                def update(
                    session: Session, type_id: int = type_id, changes: MeetingTypeChanges = changes
                ) -> MeetingType:
                    return scoped_agents.update_meeting_type(
                        session, actor=user, agent_id=agent_id, meeting_type_id=type_id, changes=changes
                    )

                runtime.act(update, success="Meeting type saved.")
        up, down, toggle, delete = st.columns(4)
        if up.button("Move up", key=f"type_up_{type_id}", disabled=index == 0):
            runtime.act(
                lambda session, type_id=type_id: scoped_agents.move_meeting_type(
                    session, actor=user, agent_id=agent_id, meeting_type_id=type_id, offset=-1
                ),
                success="Order saved.",
            )
        if down.button("Move down", key=f"type_down_{type_id}", disabled=index == len(types) - 1):
            runtime.act(
                lambda session, type_id=type_id: scoped_agents.move_meeting_type(
                    session, actor=user, agent_id=agent_id, meeting_type_id=type_id, offset=1
                ),
                success="Order saved.",
            )
        if toggle.button("Deactivate" if item["active"] else "Activate", key=f"type_toggle_{type_id}"):
            runtime.act(
                lambda session, type_id=type_id, active=not item["active"]: scoped_agents.update_meeting_type(
                    session, actor=user, agent_id=agent_id, meeting_type_id=type_id, changes={"active": active}
                ),
                success="Meeting type activated." if not item["active"] else "Meeting type deactivated.",
            )
        sure = delete.checkbox("Really delete", key=f"type_delete_ok_{type_id}")
        if delete.button("Delete", key=f"type_delete_{type_id}", disabled=not sure):
            runtime.act(
                lambda session, type_id=type_id: scoped_agents.delete_meeting_type(
                    session, actor=user, agent_id=agent_id, meeting_type_id=type_id, now=datetime.now(UTC)
                ),
                success="Meeting type deleted. Bookings already made with it are kept.",
            )

st.header("New meeting type")
with st.form(f"create_type_{agent_id}", clear_on_submit=False):
    new_name = st.text_input("Name", key="new_type_name", max_chars=100, placeholder="e.g. Pricing call")
    new_minutes = st.number_input(
        "Duration (minutes)", min_value=1, max_value=24 * 60, value=30, step=5, key="new_type_minutes"
    )
    new_description = st.text_area("Description", key="new_type_description", max_chars=2000)
    new_colour = st.color_picker("Colour", value=DEFAULT_COLOUR, key="new_type_colour")
    new_active = st.checkbox("Active (offered in the widget)", value=True, key="new_type_active")
    st.markdown("**Booking rules of this type**")
    new_rules = rule_inputs(key="new_type_rules", current={}, agent_values=agent_rules)
    if st.form_submit_button("Create meeting type", type="primary"):
        runtime.act(
            lambda session: scoped_agents.create_meeting_type(
                session,
                actor=user,
                agent_id=agent_id,
                name=new_name,
                duration_minutes=int(new_minutes),
                description=new_description,
                colour=new_colour,
                active=new_active,
                min_notice_minutes=new_rules["min_notice_minutes"],
                buffer_before_minutes=new_rules["buffer_before_minutes"],
                buffer_after_minutes=new_rules["buffer_after_minutes"],
                max_per_day=new_rules["max_per_day"],
            ),
            success="Meeting type created.",
        )

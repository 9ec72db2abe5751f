"""An agent's meeting types: list, create, edit, delete, reorder, activate and deactivate."""

from datetime import UTC, datetime

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.components import runtime
from dashboard.components.pickers import pick_agent
from dashboard.components.text import md
from dashboard.components.type_rules import rule_inputs
from shared.accounts.scoped import agents as scoped_agents
from shared.agents.locations import KIND_LABELS, LOCATION_KINDS, google_connected
from shared.agents.schemas import (
    DEFAULT_COLOUR,
    DURATION_RANGE,
    MAX_REMINDERS,
    MEETING_TYPE_RULE_FIELDS,
    REMINDER_MAX_MINUTES,
    MeetingTypeChanges,
)
from shared.models import MeetingType
from shared.models.meeting_type import DEFAULT_REMINDER_MINUTES

REMINDERS_LABEL = "Reminders (minutes before the start, comma-separated; empty: none)"
REMINDERS_HELP = (
    f"At most {MAX_REMINDERS}, each up to {REMINDER_MAX_MINUTES} (30 days): 1440 = a day before, 60 = an hour "
    "before. The invitee gets each reminder by email, in the language they booked in."
)


def parse_minutes(value: str) -> list[object]:
    """'1440, 60' → [1440, 60]; what is not a whole number is passed on as typed, for the service to
    refuse with its reason."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    return [int(part) if part.lstrip("-").isdigit() else part for part in parts]


# What the value field asks for, per kind (kinds without one show no field).
VALUE_PROMPTS = {
    "phone": ("Your phone number (leave empty to call the invitee: the form then asks for theirs)", "+48 22 123 45 67"),
    "link": ("Meeting link (https://…)", "https://zoom.us/j/123456789"),
    "in_person": ("Address", "Main Street 1, 00-001 Warsaw"),
}
NO_GOOGLE = (
    "Google Meet needs a connected Google Calendar: the Meet link is created with the calendar event. "
    "Connect Google Calendar under Settings to offer it."
)


def location_text(kind: str, value: str | None, *, connected: bool) -> str:
    label = KIND_LABELS.get(kind, kind)
    if kind == "google_meet" and not connected:
        return f"{label} (not connected)"
    if kind == "phone" and not value:
        return f"{label}: you call the invitee"
    return f"{label}: {value}" if value else label


def location_fields(key: str, *, kind: str, value: str | None, connected: bool) -> dict[str, str | None]:
    """The kind picker and, for the kinds that need one, the value field (outside any form, so the
    field appears as soon as the kind is picked). Returns the location to save."""
    kinds = [k for k in LOCATION_KINDS if k != "google_meet" or connected or k == kind]
    picked = st.selectbox(
        "Location",
        kinds,
        index=kinds.index(kind) if kind in kinds else kinds.index("none"),
        format_func=lambda k: location_text(k, None, connected=connected).split(":")[0],
        key=f"{key}_kind",
    )
    if not connected:
        st.caption(NO_GOOGLE)
    new_value: str | None = None
    if picked in VALUE_PROMPTS:
        prompt, example = VALUE_PROMPTS[picked]
        new_value = st.text_input(
            prompt, value=value or "" if picked == kind else "", placeholder=example, key=f"{key}_value_{picked}"
        )
    return {"kind": picked, "value": new_value or None}


user = runtime.user()
st.title("Meeting types")
runtime.show_flash()

with runtime.db() as session:
    agent = pick_agent(session, user)
    agent_id = agent.id
    agent_rules = {field: getattr(agent.availability, field) for field in MEETING_TYPE_RULE_FIELDS}
    connected = google_connected(session, agent_id=agent_id)
    types = [
        {
            "id": m.id,
            "name": m.name,
            "duration_minutes": m.duration_minutes,
            "description": m.description,
            "colour": m.colour,
            "active": m.active,
            **{field: getattr(m, field) for field in MEETING_TYPE_RULE_FIELDS},
            "reminder_minutes": list(m.reminder_minutes or []),
            "location_kind": m.location_kind,
            "location_value": m.location_value,
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
                "reminders": ", ".join(str(m) for m in t["reminder_minutes"]) or "none",
                "colour": t["colour"],
                "location": location_text(t["location_kind"], t["location_value"], connected=connected),
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
            reminders = st.text_input(
                REMINDERS_LABEL,
                value=", ".join(str(m) for m in item["reminder_minutes"]),
                key=f"type_reminders_{type_id}",
                help=REMINDERS_HELP,
            )
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
                    "reminder_minutes": parse_minutes(reminders),
                }

                def update(
                    session: Session, type_id: int = type_id, changes: MeetingTypeChanges = changes
                ) -> MeetingType:
                    return scoped_agents.update_meeting_type(
                        session, actor=user, agent_id=agent_id, meeting_type_id=type_id, changes=changes
                    )

                runtime.act(update, success="Meeting type saved.")
        if item["location_kind"] == "google_meet" and not connected:
            st.warning("Google Meet: not connected. " + NO_GOOGLE)
        location = location_fields(
            f"type_location_{type_id}", kind=item["location_kind"], value=item["location_value"], connected=connected
        )
        if st.button("Save location", key=f"type_location_save_{type_id}"):
            runtime.act(
                lambda session, type_id=type_id, location=location: scoped_agents.update_meeting_type(
                    session, actor=user, agent_id=agent_id, meeting_type_id=type_id, changes={"location": location}
                ),
                success="Location saved.",
            )
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
new_location = location_fields("new_type_location", kind="none", value=None, connected=connected)
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
    new_reminders = st.text_input(
        REMINDERS_LABEL,
        value=", ".join(str(m) for m in DEFAULT_REMINDER_MINUTES),
        key="new_type_reminders",
        help=REMINDERS_HELP,
    )
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
                reminder_minutes=parse_minutes(new_reminders),
                location=new_location,
            ),
            success="Meeting type created.",
        )

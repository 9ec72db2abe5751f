"""Meeting types on a page: the table, one editor per type and the "new meeting type" form.

Shared by the agents' Meeting types page and the Teams page (a team's types have the same fields and
rules, SPEC §15). The page hands in what its list belongs to as `TypeActions`, the calls to the
scoped services that change it; every widget key starts with `prefix`, so several lists can share a
page (one per team).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.components import runtime
from dashboard.components.text import md
from dashboard.components.type_rules import rule_inputs
from shared.agents.locations import KIND_LABELS, LOCATION_KINDS
from shared.agents.schemas import (
    DEFAULT_COLOUR,
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


@dataclass(frozen=True)
class TypeActions:
    """How the page's list is changed: each call runs in `runtime.act`'s transaction."""

    create: Callable[[Session, dict[str, Any]], object]  # the new type's fields, as keyword arguments
    update: Callable[[Session, int, MeetingTypeChanges], object]
    delete: Callable[[Session, int], object]
    move: Callable[[Session, int, int], object] | None = None  # (type id, -1 | 1); None: no reordering


def parse_minutes(value: str) -> list[object]:
    """'1440, 60' → [1440, 60]; what is not a whole number is passed on as typed, for the service to
    refuse with its reason."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    return [int(part) if part.lstrip("-").isdigit() else part for part in parts]


def location_text(kind: str, value: str | None, *, connected: bool) -> str:
    label = KIND_LABELS.get(kind, kind)
    if kind == "google_meet" and not connected:
        return f"{label} (not connected)"
    if kind == "phone" and not value:
        return f"{label}: you call the invitee"
    return f"{label}: {value}" if value else label


def location_fields(
    key: str, *, kind: str, value: str | None, connected: bool, no_google: str = NO_GOOGLE
) -> dict[str, str | None]:
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
        st.caption(no_google)
    new_value: str | None = None
    if picked in VALUE_PROMPTS:
        prompt, example = VALUE_PROMPTS[picked]
        new_value = st.text_input(
            prompt, value=value or "" if picked == kind else "", placeholder=example, key=f"{key}_value_{picked}"
        )
    return {"kind": picked, "value": new_value or None}


def type_item(meeting_type: MeetingType) -> dict[str, Any]:
    """A type's fields as the editor shows them (plain values: the session ends before the widgets)."""
    m = meeting_type
    return {
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


def types_table(types: Sequence[dict[str, Any]], *, connected: bool, key: str) -> None:
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
        key=key,
    )


def type_editors(
    types: Sequence[dict[str, Any]],
    *,
    actions: TypeActions,
    connected: bool,
    inherited: dict[str, Any],
    inherit_label: str = "use the agent's setting",
    no_google: str = NO_GOOGLE,
    prefix: str = "",
) -> None:
    """One expander per type: its fields and rules, its location, order, (de)activation, delete."""
    for index, item in enumerate(types):
        type_id = item["id"]
        state = "" if item["active"] else " · inactive"
        with st.expander(f"{md(item['name'])} · {item['duration_minutes']} min{state}"):
            _edit_form(item, actions=actions, inherited=inherited, inherit_label=inherit_label, prefix=prefix)
            if item["location_kind"] == "google_meet" and not connected:
                st.warning("Google Meet: not connected. " + no_google)
            location = location_fields(
                f"{prefix}type_location_{type_id}",
                kind=item["location_kind"],
                value=item["location_value"],
                connected=connected,
                no_google=no_google,
            )
            if st.button("Save location", key=f"{prefix}type_location_save_{type_id}"):
                runtime.act(
                    lambda session, type_id=type_id, location=location: actions.update(
                        session, type_id, {"location": location}
                    ),
                    success="Location saved.",
                )
            _type_buttons(item, index=index, count=len(types), actions=actions, prefix=prefix)


def _edit_form(
    item: dict[str, Any], *, actions: TypeActions, inherited: dict[str, Any], inherit_label: str, prefix: str
) -> None:
    type_id = item["id"]
    with st.form(f"{prefix}edit_type_{type_id}"):
        name = st.text_input("Name", value=item["name"], key=f"{prefix}type_name_{type_id}", max_chars=100)
        minutes = st.number_input(
            "Duration (minutes)",
            min_value=1,
            max_value=24 * 60,
            value=item["duration_minutes"],
            step=5,
            key=f"{prefix}type_minutes_{type_id}",
        )
        description = st.text_area(
            "Description", value=item["description"], key=f"{prefix}type_description_{type_id}", max_chars=2000
        )
        colour = st.color_picker("Colour", value=item["colour"], key=f"{prefix}type_colour_{type_id}")
        active = st.checkbox(
            "Active (offered in the widget)", value=item["active"], key=f"{prefix}type_active_{type_id}"
        )
        st.markdown("**Booking rules of this type**")
        rules = rule_inputs(
            key=f"{prefix}type_rules_{type_id}", current=item, agent_values=inherited, inherit_label=inherit_label
        )
        reminders = st.text_input(
            REMINDERS_LABEL,
            value=", ".join(str(m) for m in item["reminder_minutes"]),
            key=f"{prefix}type_reminders_{type_id}",
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
            runtime.act(lambda session: actions.update(session, type_id, changes), success="Meeting type saved.")


def _type_buttons(item: dict[str, Any], *, index: int, count: int, actions: TypeActions, prefix: str) -> None:
    type_id = item["id"]
    up, down, toggle, delete = st.columns(4)
    move = actions.move
    if move is not None:
        if up.button("Move up", key=f"{prefix}type_up_{type_id}", disabled=index == 0):
            runtime.act(lambda session: move(session, type_id, -1), success="Order saved.")
        if down.button("Move down", key=f"{prefix}type_down_{type_id}", disabled=index == count - 1):
            runtime.act(lambda session: move(session, type_id, 1), success="Order saved.")
    if toggle.button("Deactivate" if item["active"] else "Activate", key=f"{prefix}type_toggle_{type_id}"):
        runtime.act(
            lambda session: actions.update(session, type_id, {"active": not item["active"]}),
            success="Meeting type activated." if not item["active"] else "Meeting type deactivated.",
        )
    sure = delete.checkbox("Really delete", key=f"{prefix}type_delete_ok_{type_id}")
    if delete.button("Delete", key=f"{prefix}type_delete_{type_id}", disabled=not sure):
        runtime.act(
            lambda session: actions.delete(session, type_id),
            success="Meeting type deleted. Bookings already made with it are kept.",
        )


def new_type_form(
    form_key: str,
    *,
    actions: TypeActions,
    connected: bool,
    inherited: dict[str, Any],
    inherit_label: str = "use the agent's setting",
    no_google: str = NO_GOOGLE,
    prefix: str = "",
) -> None:
    """The "new meeting type" form (its location picker above it, outside the form)."""
    new_location = location_fields(
        f"{prefix}new_type_location", kind="none", value=None, connected=connected, no_google=no_google
    )
    with st.form(form_key, clear_on_submit=False):
        new_name = st.text_input("Name", key=f"{prefix}new_type_name", max_chars=100, placeholder="e.g. Pricing call")
        new_minutes = st.number_input(
            "Duration (minutes)", min_value=1, max_value=24 * 60, value=30, step=5, key=f"{prefix}new_type_minutes"
        )
        new_description = st.text_area("Description", key=f"{prefix}new_type_description", max_chars=2000)
        new_colour = st.color_picker("Colour", value=DEFAULT_COLOUR, key=f"{prefix}new_type_colour")
        new_active = st.checkbox("Active (offered in the widget)", value=True, key=f"{prefix}new_type_active")
        st.markdown("**Booking rules of this type**")
        new_rules = rule_inputs(
            key=f"{prefix}new_type_rules", current={}, agent_values=inherited, inherit_label=inherit_label
        )
        new_reminders = st.text_input(
            REMINDERS_LABEL,
            value=", ".join(str(m) for m in DEFAULT_REMINDER_MINUTES),
            key=f"{prefix}new_type_reminders",
            help=REMINDERS_HELP,
        )
        if st.form_submit_button("Create meeting type", type="primary"):
            fields: dict[str, Any] = {
                "name": new_name,
                "duration_minutes": int(new_minutes),
                "description": new_description,
                "colour": new_colour,
                "active": new_active,
                **new_rules,
                "reminder_minutes": parse_minutes(new_reminders),
                "location": new_location,
            }
            runtime.act(lambda session: actions.create(session, fields), success="Meeting type created.")

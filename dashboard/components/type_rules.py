"""A meeting type's own booking rules in a form: each one "use the agent's setting" by default (a team's
type: each member's own setting)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from shared.agents.schemas import MEETING_TYPE_RULE_FIELDS

LABELS = {
    "min_notice_minutes": "Minimum notice (minutes)",
    "buffer_before_minutes": "Buffer before (minutes)",
    "buffer_after_minutes": "Buffer after (minutes)",
    "max_per_day": "Daily maximum of this type",
}


def rule_inputs(
    *, key: str, current: dict[str, Any], agent_values: dict[str, Any], inherit_label: str = "use the agent's setting"
) -> dict[str, int | None]:
    """The four rules as entered: None where "use the agent's setting" stays ticked (the default).

    `agent_values` are the settings inherited; a rule missing from it (a team's type: each member
    has their own) is named without a value."""
    values: dict[str, int | None] = {}
    columns = st.columns(len(MEETING_TYPE_RULE_FIELDS))
    for column, field in zip(columns, MEETING_TYPE_RULE_FIELDS, strict=True):
        own = current.get(field)
        agent_value = agent_values.get(field)
        shown = "" if field not in agent_values else f" ({'no maximum' if agent_value is None else agent_value})"
        use_agent = column.checkbox(
            f"{LABELS[field]}: {inherit_label}{shown}", value=own is None, key=f"{key}_{field}_inherit"
        )
        number = column.number_input(
            LABELS[field],
            min_value=1 if field == "max_per_day" else 0,
            value=int(own if own is not None else (agent_value or (1 if field == "max_per_day" else 0))),
            step=1 if field == "max_per_day" else 5,
            key=f"{key}_{field}",
            help="Used when the box above is unticked.",
        )
        values[field] = None if use_agent else int(number)
    return values

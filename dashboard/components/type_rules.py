"""A meeting type's own booking rules in a form: each one "use the agent's setting" by default."""

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


def rule_inputs(*, key: str, current: dict[str, Any], agent_values: dict[str, Any]) -> dict[str, int | None]:
    """The four rules as entered: None where "use the agent's setting" stays ticked (the default)."""
    values: dict[str, int | None] = {}
    columns = st.columns(len(MEETING_TYPE_RULE_FIELDS))
    for column, field in zip(columns, MEETING_TYPE_RULE_FIELDS, strict=True):
        own = current.get(field)
        agent_value = agent_values.get(field)
        shown = "no maximum" if agent_value is None else agent_value
        use_agent = column.checkbox(
            f"{LABELS[field]}: use the agent's setting ({shown})", value=own is None, key=f"{key}_{field}_inherit"
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

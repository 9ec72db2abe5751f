"""The Users page's data-protection actions: download everything stored about a contact, erase it."""

from __future__ import annotations

import json

import streamlit as st

from dashboard.components import runtime
from shared.accounts.permissions import Actor
from shared.accounts.scoped import privacy as scoped_privacy
from shared.errors import MeetingsError
from shared.models import utcnow


def contact_actions(actor: Actor, contact_id: int) -> None:
    """A JSON download of the contact's data and an "Erase" button behind a confirmation."""
    st.subheader("Personal data")
    columns = st.columns(2)
    try:
        with runtime.db() as session:
            exported = scoped_privacy.export_contact(session, actor=actor, contact_id=contact_id)
    except MeetingsError as error:
        columns[0].caption(error.detail)
        return
    columns[0].download_button(
        "Download data (JSON)",
        data=json.dumps(exported, ensure_ascii=False, indent=2),
        file_name=f"contact-{contact_id}.json",
        mime="application/json",
        key="contact_export",
    )
    with columns[1].popover("Erase…"):
        st.warning(
            "Erases this person's names, email, company, descriptions, event attributes, emails and visitor ids. "
            "Their future bookings are cancelled first (the agent is told, calendars and webhooks updated). "
            "This cannot be undone."
        )
        confirmed = st.checkbox("I understand, erase this contact", key="contact_erase_confirm")
        if st.button("Erase contact", type="primary", disabled=not confirmed, key="contact_erase"):
            runtime.act(
                lambda session: scoped_privacy.erase_contact(session, actor=actor, contact_id=contact_id, now=utcnow()),
                success="Contact erased; their future bookings were cancelled.",
                refused="Not erased",
                reset_widgets=("contact_id", "contact_erase_confirm"),
            )

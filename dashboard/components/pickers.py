"""Choosing whose data a page shows: a manager picks any agent, an agent always sees themselves."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from dashboard.components.runtime import SignedIn
from shared.accounts.scoped import agents as scoped_agents
from shared.models import Agent

AGENT_KEY = "picked_agent_id"


def pick_agent(session: Session, user: SignedIn, *, label: str = "Agent") -> Agent:
    """The agent the page is about. Managers get a selectbox (remembered across pages)."""
    agents = scoped_agents.visible_agents(session, actor=user)
    if not user.is_manager:
        return agents[0]
    # Agents taking calls first: the manager's own calendar is rarely what they came for.
    agents.sort(key=lambda a: (a.id == user.id, not a.active, a.id))
    ids = [a.id for a in agents]
    names = {a.id: f"{a.name} <{a.email}>" + ("" if a.active else " (inactive)") for a in agents}
    remembered = st.session_state.get(AGENT_KEY)
    index = ids.index(remembered) if remembered in ids else 0
    chosen = st.selectbox(label, ids, index=index, format_func=names.__getitem__, key="agent_picker")
    st.session_state[AGENT_KEY] = chosen
    return next(a for a in agents if a.id == chosen)

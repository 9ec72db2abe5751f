"""Small factory functions with keyword overrides for test data."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shared.agents.service import create_agent
from shared.db import session_scope
from shared.models import Agent

_counter = itertools.count(1)


def make_agent(session: Session, **overrides: Any) -> Agent:
    """An agent with the defaults of a new agent; availability fields can be overridden by name.

    Its meeting types remind no one unless `reminder_minutes` says so (the product's new types
    remind a day and an hour before): the suite's outbox drains run on the real clock, long after
    the pinned clock's bookings, so every default reminder would be due in every drain.
    """
    n = next(_counter)
    reminder_minutes = list(overrides.pop("reminder_minutes", []))
    availability_fields = {
        key: overrides.pop(key)
        for key in list(overrides)
        if key
        in {
            "weekly",
            "overrides",
            "min_notice_minutes",
            "horizon_days",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "slot_interval_minutes",
            "max_per_day",
            "change_cutoff_minutes",
        }
    }
    agent = create_agent(
        session,
        name=overrides.pop("name", f"Agent {n}"),
        email=overrides.pop("email", f"agent{n}@example.com"),
        timezone=overrides.pop("timezone", "Europe/Warsaw"),
        **overrides,
    )
    for key, value in availability_fields.items():
        setattr(agent.availability, key, value)
    for meeting_type in agent.meeting_types:
        meeting_type.reminder_minutes = list(reminder_minutes)
    session.flush()
    return agent


def committed_agent(factory: sessionmaker[Session], **overrides: Any) -> tuple[int, str, dict[str, int]]:
    """Create and commit an agent; returns (id, link, {meeting type name: id})."""
    with session_scope(factory) as session:
        agent = make_agent(session, **overrides)
        return agent.id, agent.link, {m.name: m.id for m in agent.meeting_types}

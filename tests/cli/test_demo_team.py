"""The demo's "Sales team" (SPEC §15, issue 14): a round-robin link of the three demo agents, offered in
the demo chat, with team sessions in the funnel and bookings spread over its members."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.demo import DEMO_AGENTS, DEMO_TEAM_NAME, DEMO_TEAM_TYPE, seed_demo
from shared.funnel.service import funnel
from shared.models import Booking, Event, FunnelSession, Team
from shared.models.team import MODE_ROUND_ROBIN
from shared.settings import Settings
from tests.conftest import Clock
from widget_api.app import create_app


def test_the_demo_has_a_sales_team_with_sessions_and_bookings(
    db: sessionmaker[Session], settings: Settings, clock: Clock
) -> None:
    with session_scope(db) as session:
        summary = seed_demo(session, now=clock.now, settings=settings)
    with session_scope(db) as session:
        team = session.scalars(select(Team)).one()
        assert (team.name, team.mode) == (DEMO_TEAM_NAME, MODE_ROUND_ROBIN)
        assert [a.email for a in team.agents] == [spec.email for spec in DEMO_AGENTS]
        assert summary.teams == [(DEMO_TEAM_NAME, team.link)]
        team_id, link, member_ids = team.id, team.link, set(team.member_ids)

        result = funnel(session, start=None, end=None, team_id=team_id)
        counts = [step.sessions for step in result.steps]
        assert counts[0] >= 50
        assert counts == sorted(counts, reverse=True)
        assert counts[3] > 0
        everything = [step.sessions for step in funnel(session, start=None, end=None).steps]
        assert all(mine < total for mine, total in zip(counts, everything, strict=True))
        team_sessions = session.scalars(select(FunnelSession.session_id).where(FunnelSession.team_id == team_id))
        assert len(set(team_sessions)) == counts[0]  # each team session counted once

        bookings = session.scalars(select(Booking).where(Booking.team_id == team_id)).all()
        assert len(bookings) == counts[3]
        assert {b.meeting_type.name for b in bookings} == {DEMO_TEAM_TYPE}
        members = Counter(b.agent_id for b in bookings)
        assert set(members) <= member_ids
        assert len(members) >= 2  # the round robin spread them
        events = session.scalars(select(Event).where(Event.booking_id.in_([b.id for b in bookings]))).all()
        assert {e.team_id for e in events} == {team_id}
        steps = session.scalars(select(Event).where(Event.team_id == team_id, Event.booking_id.is_(None))).all()
        assert steps
        assert {e.agent_id for e in steps} == {None}  # a team link's steps name no agent

        assert seed_demo(session, now=clock.now, settings=settings).teams == [(DEMO_TEAM_NAME, link)]

    with TestClient(create_app(settings)) as client:
        chat = client.get("/demo/chat").text
        assert f'<a href="http://testserver/b/{link}"' in chat
        assert f"Or book with our {DEMO_TEAM_NAME} (whoever is free first)" in chat
        hosted = client.get(f"/b/{link}")
        assert hosted.status_code == 200
        assert f"<h1>Book a call with {DEMO_TEAM_NAME}</h1>" in hosted.text
        assert "whoever of the team is free then takes the call" in hosted.text
        answer = client.get(f"/api/v1/links/{link}").json()
        assert answer["team"] == {"name": DEMO_TEAM_NAME, "mode": MODE_ROUND_ROBIN}
        assert [t["name"] for t in answer["meeting_types"]] == [DEMO_TEAM_TYPE]

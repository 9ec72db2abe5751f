"""A team booking in a real browser (SPEC §15, issue 14): the demo chat offers the team's link beside
the agent's, the unfurled widget names the team, the booking goes to a free member and the
confirmation names them; a collective team's hosted page names every member. Checked in the database.

Its own server process and database: a team in the shared browser server would change the demo chat
the other browser tests look at.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import build_engine, build_sessionmaker, session_scope
from shared.models import Agent, Booking, Event, FunnelSession
from shared.models.team import MODE_COLLECTIVE, MODE_ROUND_ROBIN
from shared.settings import Settings
from shared.teams.service import create_team, create_team_meeting_type
from tests.browser.axe import add_axe, violations
from tests.browser.conftest import EVERY_DAY
from tests.browser.steps import FORM, fill_form, host_events, to_form, wait_until, widget
from tests.factories import committed_agent
from tests.live import running_api

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class TeamServer:
    base_url: str
    db: sessionmaker[Session]
    sales: tuple[int, str]  # (team id, link): round robin of Anna and Ben
    pair: tuple[int, str]  # collective of Anna and Ben


def _team(db: sessionmaker[Session], *, name: str, mode: str, member_ids: list[int]) -> tuple[int, str]:
    with session_scope(db) as session:
        team = create_team(session, name=name, mode=mode, member_ids=member_ids)
        create_team_meeting_type(session, team_id=team.id, name="Sales call", duration_minutes=30)
        return team.id, team.link


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Iterator[TeamServer]:
    path = tmp_path_factory.mktemp("team-browser") / "meetings.db"
    shutil.copyfile(migrated_template, path)
    database_url = f"sqlite:///{path}"
    engine = build_engine(Settings(environment="test", database_url=database_url))
    db = build_sessionmaker(engine)
    rules = {"timezone": "UTC", "weekly": EVERY_DAY, "min_notice_minutes": 0}
    anna, _, _ = committed_agent(db, name="Anna Kowalska", email="anna@team.example", **rules)
    ben, _, _ = committed_agent(db, name="Ben Okafor", email="ben@team.example", **rules)
    sales = _team(db, name="Sales team", mode=MODE_ROUND_ROBIN, member_ids=[anna, ben])
    pair = _team(db, name="Founders", mode=MODE_COLLECTIVE, member_ids=[anna, ben])
    try:
        with running_api(database_url) as base_url:
            yield TeamServer(base_url=base_url, db=db, sales=sales, pair=pair)
    finally:
        engine.dispose()


def test_a_round_robin_booking_through_the_demo_chat_names_the_member(page: Page, team_server: TeamServer) -> None:
    team_id, link = team_server.sales
    page.goto(f"{team_server.base_url}/demo/chat")
    links = page.locator("[data-meetings-chat] a[href*='/b/']")
    expect(links).to_have_count(2)  # the agent's link and, beside it, the team's
    expect(page.locator("[data-team-link]")).to_contain_text("Or book with our Sales team (whoever is free first)")
    booking = widget(page, 1)
    expect(booking.locator(".header .agent")).to_have_text("Sales team")
    expect(booking.locator(".header .summary")).to_have_text("Whoever of the team is free takes the call.")

    date, start = to_form(booking, "Sales call")
    fill_form(booking)
    booking.get_by_role("button", name="Book the call").click()
    expect(booking.get_by_role("heading", name="You're booked!")).to_be_visible()
    member = booking.locator("[data-k=host]")
    expect(member).to_have_text(_one_of("You'll meet Anna Kowalska.", "You'll meet Ben Okafor."))

    posted = wait_until(lambda: [e for e in host_events(page) if e["link"] == link and "booking" in e])
    session_id = posted[0]["session_id"]
    with session_scope(team_server.db) as session:
        stored = session.scalars(select(Booking).where(Booking.session_id == session_id)).one()
        assert stored.team_id == team_id
        assert stored.email == FORM["email"]
        assert stored.start_at == datetime.fromisoformat(start)
        assert stored.start_at.date().isoformat() == date
        agent = session.get(Agent, stored.agent_id)
        assert agent is not None
        assert member.text_content() == f"You'll meet {agent.name}."
        # The widget's step events from the team link record the team; the funnel counts it once.
        steps = session.scalars(select(Event).where(Event.session_id == session_id).order_by(Event.id)).all()
        assert [e.name for e in steps][:3] == ["calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step"]
        assert {e.team_id for e in steps} == {team_id}
        funnel = session.scalars(select(FunnelSession).where(FunnelSession.session_id == session_id)).one()
        assert funnel.team_id == team_id


def test_a_collective_booking_on_the_hosted_page_names_every_member(page: Page, team_server: TeamServer) -> None:
    team_id, link = team_server.pair
    add_axe(page.context)
    page.goto(f"{team_server.base_url}/b/{link}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a call with Founders")
    booking = widget(page)
    expect(booking.locator(".header .agent")).to_have_text("Founders")
    expect(booking.locator(".header .summary")).to_have_text("The whole team takes the call together.")
    assert violations(page) == [], "the team's hosted page"
    to_form(booking, "Sales call")
    fill_form(booking, {**FORM, "email": "pair@example.com"})
    booking.get_by_role("button", name="Book the call").click()
    expect(booking.locator("[data-k=host]")).to_have_text("You'll meet Anna Kowalska and Ben Okafor.")
    assert violations(page) == [], "the team booking's confirmation"
    with session_scope(team_server.db) as session:
        stored = session.scalars(select(Booking).where(Booking.email == "pair@example.com")).one()
        assert stored.team_id == team_id
        assert len(stored.host_agent_ids) == 2


def _one_of(*texts: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in texts))

"""Back at every step, month navigation, focus on each step's heading, and one step event per choice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shared.db import session_scope
from shared.models import Event
from tests.browser.conftest import LiveServer
from tests.browser.steps import choose_type, focused, host_events, to_form, wait_until, widget

pytestmark = pytest.mark.browser


def _step_events(live_server: LiveServer, session_id: str) -> list[tuple[str, int | None, str | None]]:
    with session_scope(live_server.db) as session:
        events = session.scalars(select(Event).where(Event.session_id == session_id).order_by(Event.id))
        return [(e.name, e.meeting_type_id, e.chosen_date) for e in events]


def test_back_works_at_every_step_and_keeps_the_choices(page: Page, live_server: LiveServer) -> None:
    _, link, types = live_server.agent()
    page.goto(f"{live_server.base_url}/b/{link}")
    booking = widget(page)
    date, start = to_form(booking)
    assert focused(page) == "H2:Your details"

    booking.get_by_role("button", name="Back").click()
    expect(booking.get_by_role("heading", name="Choose a time")).to_be_focused()
    expect(booking.locator(f'[data-start="{start}"]')).to_have_attribute("aria-pressed", "true")
    expect(booking.get_by_role("button", name="Continue")).to_be_enabled()

    booking.get_by_role("button", name="Back").click()
    expect(booking.get_by_role("heading", name="Choose a date")).to_be_focused()
    expect(booking.locator(f'[data-date="{date}"]')).to_have_attribute("aria-pressed", "true")

    # Month navigation: forward shows the next month's days, back returns.
    month_label = booking.locator("h3")
    this_month = month_label.inner_text()
    booking.get_by_role("button", name="Next month").click()
    expect(month_label).not_to_have_text(this_month)
    first_day = booking.locator("[data-date]").first.get_attribute("data-date")
    assert first_day
    assert first_day[:7] > date[:7]
    booking.get_by_role("button", name="Previous month").click()
    expect(month_label).to_have_text(this_month)
    if date[:7] == datetime.now(UTC).strftime("%Y-%m"):
        expect(booking.get_by_role("button", name="Previous month")).to_be_disabled()

    booking.get_by_role("button", name="Back").click()
    expect(booking.get_by_role("heading", name="Choose a meeting")).to_be_focused()
    # Choosing the same type again is not a new choice; another type is.
    choose_type(booking, "Demo")
    expect(booking.get_by_role("heading", name="Choose a date")).to_be_visible()
    booking.get_by_role("button", name="Back").click()
    choose_type(booking, "Onboarding")
    expect(booking.locator("[data-date]").first).to_be_visible()

    posted = host_events(page)
    assert [e["type"] for e in posted] == [
        "meetings:calendar_1st_step",
        "meetings:calendar_2nd_step",
        "meetings:calendar_3rd_step",
        "meetings:calendar_1st_step",
    ]
    assert [e["meeting_type_id"] for e in posted if e["type"] == "meetings:calendar_1st_step"] == [
        types["Demo"],
        types["Onboarding"],
    ]
    session_id = posted[0]["session_id"]
    wait_until(lambda: len(_step_events(live_server, session_id)) == 4)
    assert _step_events(live_server, session_id) == [
        ("calendar_1st_step", types["Demo"], None),
        ("calendar_2nd_step", types["Demo"], date),
        ("calendar_3rd_step", types["Demo"], date),
        ("calendar_1st_step", types["Onboarding"], None),
    ]

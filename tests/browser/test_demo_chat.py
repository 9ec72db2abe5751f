"""The demo chat: a booking made start to finish through the unfurled widget, checked in the database."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shared.db import session_scope
from shared.models import Booking, Event
from tests.browser.conftest import LiveServer
from tests.browser.steps import FORM, choose_type, host_events, to_form, widget

pytestmark = pytest.mark.browser

STEPS = ["calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step", "calendar_4th_step_submit"]


def test_book_a_call_in_the_demo_chat(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.base_url}/demo/chat")
    link_message = page.locator("[data-meetings-chat] a[href*='/b/']")
    expect(link_message).to_have_count(1)
    booking = widget(page)
    expect(booking.locator("[data-meeting-type-id]")).to_have_count(3)
    assert page.evaluate("document.querySelector('meetings-booking').shadowRoot !== null")

    date, start = to_form(booking)
    for name, value in FORM.items():
        booking.locator(f"[name={name}]").fill(value)
    booking.get_by_role("button", name="Book the call").click()

    expect(booking.get_by_role("heading", name="You're booked!")).to_be_visible()
    expect(booking.get_by_text("A confirmation is on its way to maria@example.com.")).to_be_visible()
    ics = booking.get_by_role("link", name="Add to calendar")
    manage = booking.get_by_role("link", name="Reschedule or cancel")
    ics_url, manage_url = ics.get_attribute("href"), manage.get_attribute("href")
    assert ics_url
    assert re.fullmatch(rf"{live_server.base_url}/api/v1/bookings/[\w-]+/ics", ics_url)
    assert manage_url
    assert manage_url.startswith(f"{live_server.base_url}/manage/")
    calendar_file = httpx.get(ics_url)
    assert calendar_file.status_code == 200
    assert "BEGIN:VCALENDAR" in calendar_file.text

    posted = host_events(page)
    assert [e["type"] for e in posted] == [
        "meetings:calendar_1st_step",
        "meetings:calendar_2nd_step",
        "meetings:calendar_3rd_step",
        "meetings:booking_confirmed",
    ]
    session_id = posted[0]["session_id"]
    visitor_id = page.evaluate("localStorage.getItem('meetings_visitor_id')")
    assert all(e["session_id"] == session_id and e["visitor_id"] == visitor_id for e in posted)
    assert posted[1]["date"] == date
    assert posted[2]["start"] == start
    confirmed = posted[3]["booking"]
    assert confirmed["ics_url"] == ics_url
    assert confirmed["start"] == start
    # The demo page's own listener shows what it received.
    expect(page.locator("#host-events li")).to_have_count(4)

    with session_scope(live_server.db) as session:
        events = session.scalars(select(Event).where(Event.session_id == session_id).order_by(Event.id)).all()
        assert [e.name for e in events] == [*STEPS, "booking_confirmed"]
        assert {e.visitor_id for e in events} == {visitor_id}
        assert events[1].chosen_date == date
        assert events[3].attributes == FORM
        stored = session.scalar(select(Booking).where(Booking.session_id == session_id))
        assert stored is not None
        assert stored.start_at == datetime.fromisoformat(start)
        assert (stored.first_name, stored.company_name) == ("Maria", "Nowak & Daughters <Ltd>")
        assert stored.invitee_timezone == "UTC"
        assert stored.meeting_type.name == "Demo"

    # A second booking from the same widget is a new attempt: a new session id.
    booking.get_by_role("button", name="Book another call").click()
    choose_type(booking, "Assistance")
    expect(booking.locator("[data-date]").first).to_be_visible()
    assert host_events(page)[-1]["session_id"] != session_id

"""A slot taken meanwhile (409), a network failure, a lost answer, a refused origin: never a blank bubble."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Booking
from tests.browser.conftest import LiveServer
from tests.browser.steps import (
    FORM,
    choose_day,
    choose_last_hour,
    choose_type,
    fill_form,
    host_events,
    press_continue,
    to_form,
    widget,
)

pytestmark = pytest.mark.browser

TAKEN = "Sorry, that time is no longer available."


def _bookings(live_server: LiveServer, agent_id: int) -> int:
    with session_scope(live_server.db) as session:
        return session.scalar(select(func.count()).select_from(Booking).where(Booking.agent_id == agent_id)) or 0


def test_slot_taken_meanwhile_brings_back_fresh_hours(page: Page, live_server: LiveServer) -> None:
    agent_id, link, types = live_server.agent()
    page.goto(f"{live_server.base_url}/b/{link}")
    expect(page).to_have_title("Book a call with Agent " + page.title().split("Agent ")[1])
    booking = widget(page)
    _, start = to_form(booking)
    fill_form(booking)

    # Someone else books the same time through the API just before our visitor submits.
    other = httpx.post(
        f"{live_server.base_url}/api/v1/links/{link}/bookings",
        json={
            **FORM,
            "email": "other@example.com",
            "meeting_type_id": types["Demo"],
            "start": start,
            "timezone": "UTC",
        },
    )
    assert other.status_code == 201, other.text
    booking.get_by_role("button", name="Book the call").click()

    expect(booking.get_by_role("alert")).to_contain_text(TAKEN)
    expect(booking.get_by_role("heading", name="Choose a time")).to_be_focused()
    expect(booking.locator(f'[data-start="{start}"]')).to_have_count(0)
    assert host_events(page)[-1]["type"] == "meetings:error"
    assert host_events(page)[-1]["error"]["code"] == "slot_unavailable"

    # Another hour, and the details typed before are still there.
    second = choose_last_hour(booking)
    assert second != start
    press_continue(booking)
    expect(booking.locator("[name=email]")).to_have_value(FORM["email"])
    booking.get_by_role("button", name="Book the call").click()
    expect(booking.get_by_role("heading", name="You're booked!")).to_be_visible()
    assert _bookings(live_server, agent_id) == 2


def test_network_errors_offer_a_retry_and_a_lost_answer_books_once(page: Page, live_server: LiveServer) -> None:
    agent_id, link, _ = live_server.agent()
    page.goto(f"{live_server.base_url}/b/{link}")
    booking = widget(page)

    page.route("**/slots?**", lambda route: route.abort())
    choose_type(booking)
    choose_day(booking)
    expect(booking.get_by_role("alert")).to_contain_text("We couldn't reach the booking service.")
    assert host_events(page)[-1]["error"]["code"] == "network"
    page.unroute("**/slots?**")
    booking.get_by_role("button", name="Try again").click()
    choose_last_hour(booking)
    press_continue(booking)
    fill_form(booking)

    # The first submit reaches the server (the booking is made) but its answer is lost.
    keys: list[str | None] = []

    def lose_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/bookings", lose_answer)
    booking.get_by_role("button", name="Book the call").click()
    expect(booking.get_by_role("alert")).to_contain_text("We couldn't reach the booking service.")
    expect(booking.locator("[name=first_name]")).to_have_value(FORM["first_name"])
    booking.get_by_role("button", name="Try again").click()
    expect(booking.get_by_role("heading", name="You're booked!")).to_be_visible()

    assert len(keys) == 2
    assert keys[0]
    assert keys[0] == keys[1]
    assert _bookings(live_server, agent_id) == 1


def test_an_origin_that_is_not_allowed_sees_an_error_not_a_blank_bubble(page: Page, live_server: LiveServer) -> None:
    _, link, _ = live_server.agent()
    url = live_server.refused_host.page(
        "/refused.html",
        f'<meetings-booking link="{link}"></meetings-booking>'
        f'<script src="{live_server.base_url}/widget.js" async></script>',
    )
    page.goto(url)
    booking = widget(page)
    expect(booking.get_by_role("alert")).to_contain_text("We couldn't reach the booking service.")
    expect(booking.get_by_role("button", name="Try again")).to_be_visible()

"""A 320 px chat bubble, keyboard-only booking, the Polish locale and the invitee's time zone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import RECORD_HOST_EVENTS, LiveServer
from tests.browser.steps import (
    FORM,
    choose_day,
    choose_last_hour,
    choose_type,
    focused,
    horizontal_overflow,
    host_events,
    press_continue,
    tab_until,
    widget,
)

pytestmark = pytest.mark.browser

POLISH_MONTH = re.compile(
    r"(styczeń|luty|marzec|kwiecień|maj|czerwiec|lipiec|sierpień|wrzesień|październik|listopad|grudzień) \d{4}"
)


@pytest.fixture
def narrow_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 320, "height": 720}, locale="en-US", timezone_id="UTC")
    context.add_init_script(RECORD_HOST_EVENTS)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_fits_a_320px_chat_bubble_at_every_step(
    narrow_context: BrowserContext, live_server: LiveServer, tmp_path: Path
) -> None:
    page = narrow_context.new_page()
    page.goto(f"{live_server.base_url}/demo/chat")
    booking = widget(page)
    expect(booking.locator("[data-meeting-type-id]")).to_have_count(3)
    assert horizontal_overflow(page) == []
    choose_type(booking, "Onboarding")
    choose_day(booking)
    assert horizontal_overflow(page) == []
    choose_last_hour(booking)
    assert horizontal_overflow(page) == []
    press_continue(booking)
    booking.get_by_role("button", name="Book the call").click()  # empty form: errors shown
    expect(booking.get_by_text("Please fill this in.").first).to_be_visible()
    assert horizontal_overflow(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    box = booking.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 320
    shot = tmp_path / "widget-320.png"
    booking.screenshot(path=str(shot))
    assert shot.stat().st_size > 1000


def test_keyboard_only_booking(page: Page, live_server: LiveServer) -> None:
    # An hour of notice keeps the first offered hour safely in the future while the test types.
    _, link, _ = live_server.agent(min_notice_minutes=60)
    page.goto(f"{live_server.base_url}/b/{link}")
    booking = widget(page)
    expect(booking.locator("[data-meeting-type-id]").first).to_be_visible()

    tab_until(page, "[data-meeting-type-id]")
    page.keyboard.press("Enter")
    expect(booking.get_by_role("heading", name="Choose a date")).to_be_focused()
    tab_until(page, "[data-date]")
    page.keyboard.press("Enter")
    expect(booking.get_by_role("heading", name="Choose a time")).to_be_focused()
    tab_until(page, "[data-start]")
    page.keyboard.press("Space")
    expect(booking.get_by_role("status")).to_contain_text("selected")
    tab_until(page, "[data-k=continue]")
    page.keyboard.press("Enter")
    expect(booking.get_by_role("heading", name="Your details")).to_be_focused()
    for name, value in FORM.items():
        tab_until(page, f"[name={name}]", limit=3)
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    assert focused(page) == "BUTTON:Book the call"
    page.keyboard.press("Enter")
    expect(booking.get_by_role("heading", name="You're booked!")).to_be_focused()
    assert host_events(page)[-1]["type"] == "meetings:booking_confirmed"


def test_polish_is_the_browser_default_for_polish_visitors(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw")
    try:
        page = context.new_page()
        page.goto(f"{live_server.base_url}/demo/chat")
        booking = widget(page)
        expect(booking.get_by_role("heading", name="Wybierz rodzaj spotkania")).to_be_visible()
        choose_type(booking, "Demo")
        expect(booking.get_by_role("heading", name="Wybierz dzień")).to_be_visible()
        expect(booking.locator("h3")).to_have_text(POLISH_MONTH)
        expect(booking.get_by_role("button", name="Następny miesiąc")).to_be_visible()
        choose_day(booking)
        expect(booking.get_by_label("Strefa czasowa")).to_have_value("Europe/Warsaw")
        choose_last_hour(booking)
        booking.get_by_role("button", name="Dalej").click()
        expect(booking.get_by_label("Imię")).to_be_visible()
        booking.get_by_label("E-mail").fill("nie-adres")
        booking.get_by_role("button", name="Zarezerwuj rozmowę").click()
        expect(booking.get_by_text("To pole jest wymagane.").first).to_be_visible()
        expect(booking.get_by_text("Podaj poprawny adres e-mail", exact=False)).to_be_visible()
        booking.get_by_role("button", name="Wstecz").click()
        expect(booking.get_by_role("heading", name="Wybierz godzinę")).to_be_visible()
    finally:
        context.close()


def test_hours_follow_the_browser_time_zone_and_the_selector(browser: Browser, live_server: LiveServer) -> None:
    _, link, _ = live_server.agent()
    context = browser.new_context(locale="en-US", timezone_id="Asia/Kolkata")
    try:
        page = context.new_page()
        page.goto(f"{live_server.base_url}/b/{link}")
        booking = widget(page)
        choose_type(booking)
        choose_day(booking)
        zone = booking.get_by_label("Time zone")
        expect(zone).to_have_value(re.compile(r"Asia/(Kolkata|Calcutta)"))
        assert (booking.locator("[data-start]").first.get_attribute("data-start") or "").endswith("+05:30")
        zone.select_option("America/New_York")
        expect(booking.locator("[data-start]").first).to_have_attribute("data-start", re.compile(r"-0[45]:00$"))
    finally:
        context.close()

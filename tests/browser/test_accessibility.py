"""WCAG 2.1 AA with axe-core at each widget step (in English and another language), on the hosted
page, the link-not-found page, the demo chat and the manage page; the manage page's focus ring."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from shared.notifications.i18n import translator
from tests.browser.axe import add_axe, violations
from tests.browser.conftest import RECORD_HOST_EVENTS, LiveServer
from tests.browser.steps import FORM, choose_day, choose_last_hour, choose_type, tab_until, widget

pytestmark = pytest.mark.browser


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="en-US", timezone_id="UTC", viewport={"width": 420, "height": 900})
    context.add_init_script(RECORD_HOST_EVENTS)
    add_axe(context)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def settled(booking: Locator) -> None:
    """No spinner: axe sees the step as the visitor does."""
    expect(booking.locator(".step[aria-busy=false]")).to_have_count(1)


def assert_clean(page: Page, where: str) -> None:
    assert violations(page) == [], where


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(n) for n in re.findall(r"\d+", css)[:3])
    return r, g, b


def book_every_step_checked(page: Page, booking: Locator, t: dict[str, str], label: str) -> str:
    """Runs axe at each step of a booking; returns the manage page URL."""
    expect(booking.locator("[data-meeting-type-id]").first).to_be_visible()
    assert_clean(page, f"{label}: meeting types")
    choose_type(booking, "Demo")
    choose_day(booking)
    # The calendar was checked on the way: go back to it once the hours are there.
    settled(booking)
    booking.get_by_role("button", name=t["back"]).click()
    expect(booking.locator("[data-date]:not([disabled])").first).to_be_visible()
    settled(booking)
    assert_clean(page, f"{label}: calendar")
    choose_day(booking)
    expect(booking.locator("[data-start]").first).to_be_visible()
    settled(booking)
    assert_clean(page, f"{label}: hours")
    choose_last_hour(booking)
    assert_clean(page, f"{label}: an hour chosen")
    booking.get_by_role("button", name=t["cont"], exact=True).click()
    expect(booking.locator("[name=first_name]")).to_be_visible()
    assert_clean(page, f"{label}: form")
    booking.locator("[name=email]").fill("not-an-address")
    booking.get_by_role("button", name=t["book"]).click()
    expect(booking.locator("[aria-invalid=true]").first).to_be_visible()
    assert_clean(page, f"{label}: form with errors")
    for name, value in FORM.items():
        booking.locator(f"[name={name}]").fill(value)
    booking.get_by_role("button", name=t["book"]).click()
    expect(booking.get_by_role("heading", name=t["done"])).to_be_visible()
    assert_clean(page, f"{label}: confirmation")
    manage_url = booking.get_by_role("link", name=t["manage"]).get_attribute("href")
    assert manage_url
    return manage_url


@pytest.mark.parametrize("lang", ["en", "de"])
def test_the_hosted_page_and_every_widget_step_pass_axe(
    axe_context: BrowserContext, live_server: LiveServer, lang: str
) -> None:
    _, link, _ = live_server.agent(min_notice_minutes=60)
    page = axe_context.new_page()
    page.goto(f"{live_server.base_url}/b/{link}?locale={lang}")
    t: dict[str, str] = page.evaluate(f"window.Meetings.strings.{lang}")
    manage_url = book_every_step_checked(page, widget(page), t, f"hosted page ({lang})")

    page.goto(manage_url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_clean(page, "manage page")
    page.locator("#reschedule [data-date]").first.click()
    expect(page.locator("#reschedule [data-start]").first).to_be_visible()
    assert_clean(page, "manage page, a day chosen")
    page.locator("#reschedule [data-start]").last.click()
    expect(page.locator(".notice")).to_be_visible()
    assert_clean(page, "manage page, rescheduled")
    # The manage page speaks the language the booking was made in (SPEC §14).
    page.get_by_role("button", name=translator(lang)("manage.cancel_button")).click()
    expect(page.locator("[data-status=cancelled]")).to_be_visible()
    assert_clean(page, "manage page, cancelled")


def test_the_widget_error_state_and_the_link_not_found_page_pass_axe(
    axe_context: BrowserContext, live_server: LiveServer
) -> None:
    page = axe_context.new_page()
    response = page.goto(f"{live_server.base_url}/b/no-such-link-123")
    assert response is not None
    assert response.status == 404
    assert_clean(page, "link not found page")
    html = f"""<!doctype html><html lang="en"><head><title>Host</title></head><body><main>
      <meetings-booking link="gone-link-12345"></meetings-booking></main>
      <script src="{live_server.base_url}/widget.js" async></script></body></html>"""
    page.goto(live_server.host.page("/axe-gone", html))
    expect(widget(page).get_by_role("alert")).to_be_visible()
    assert_clean(page, "widget error step")


def test_the_demo_chat_passes_axe_in_each_language(axe_context: BrowserContext, live_server: LiveServer) -> None:
    page = axe_context.new_page()
    page.goto(f"{live_server.base_url}/demo/chat")
    booking = widget(page)
    expect(booking.locator("[data-meeting-type-id]").first).to_be_visible()
    assert_clean(page, "demo chat")
    for lang in ("pl", "de", "fr", "es"):
        page.get_by_label("Widget language").select_option(lang)
        expect(booking.get_by_role("region")).to_have_attribute("lang", lang)
        expect(booking.locator("[data-meeting-type-id]").first).to_be_visible()
        assert_clean(page, f"demo chat in {lang}")


def test_the_manage_page_focus_ring_is_visible(page: Page, live_server: LiveServer) -> None:
    """WCAG 1.4.11: the keyboard focus indicator has at least 3:1 against the white card and the page."""
    _, link, _ = live_server.agent(min_notice_minutes=60)
    page.goto(f"{live_server.base_url}/b/{link}")
    booking = widget(page)
    choose_type(booking, "Demo")
    choose_day(booking)
    choose_last_hour(booking)
    booking.get_by_role("button", name="Continue").click()
    for name, value in FORM.items():
        booking.locator(f"[name={name}]").fill(value)
    booking.get_by_role("button", name="Book the call").click()
    manage_url = booking.get_by_role("link", name="Reschedule or cancel").get_attribute("href")
    assert manage_url
    page.goto(manage_url)
    tab_until(page, "a.button")
    ring = page.evaluate("""() => {
      const style = getComputedStyle(document.activeElement);
      return [style.outlineStyle, style.outlineWidth, style.outlineColor,
              getComputedStyle(document.body).backgroundColor];
    }""")
    style, width, color, page_background = ring
    assert style == "solid"
    assert float(width.removesuffix("px")) >= 2
    assert contrast(rgb(color), (255, 255, 255)) >= 3
    assert contrast(rgb(color), rgb(page_background)) >= 3

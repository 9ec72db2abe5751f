"""Where the call happens, in the widget (SPEC §14): each type's location kind, the invitee's phone
field for a `phone` type where the agent calls, and the join details on the confirmation step.

Meeting types get their location through the admin API, the widget reads it from the real public
answers: nothing is intercepted.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Request, expect

from tests.browser.axe import add_axe, violations
from tests.browser.conftest import LiveServer
from tests.browser.steps import FORM, choose_day, choose_last_hour, choose_type, fill_form, widget

pytestmark = pytest.mark.browser

ZOOM_ROOM = "https://us02web.zoom.us/j/81234567890?pwd=secret"
LOCATIONS: dict[str, dict[str, Any]] = {
    "Call me": {"kind": "phone", "value": None},
    "Call us": {"kind": "phone", "value": "+48 22 123 45 67"},
    "Zoom room": {"kind": "link", "value": ZOOM_ROOM},
    "Own room": {"kind": "link", "value": "https://video.example.org/rooms/7"},
    "Office visit": {"kind": "in_person", "value": "ul. Prosta 1 <b>, Warszawa"},
}


def located_agent(live_server: LiveServer) -> str:
    """An agent with one meeting type per location of LOCATIONS (admin API); returns the link."""
    agent_id, link, _ = live_server.agent(min_notice_minutes=60)
    admin = {"Authorization": f"Bearer {live_server.settings.admin_token}"}
    with httpx.Client(base_url=live_server.base_url, headers=admin) as client:
        for name, location in LOCATIONS.items():
            body = {"name": name, "duration_minutes": 30, "location": location}
            answer = client.post(f"/api/v1/admin/agents/{agent_id}/meeting-types", json=body)
            assert answer.status_code == 201, answer.text
    return link


def booking_posts(page: Page) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/bookings"):
            posts.append(json.loads(request.post_data or "{}"))

    page.on("request", record)
    return posts


def to_form_of(booking: Locator, name: str) -> None:
    choose_type(booking, name)
    choose_day(booking)
    choose_last_hour(booking)
    booking.get_by_role("button", name="Continue").click()
    expect(booking.locator("[name=first_name]")).to_be_visible()


def test_each_meeting_type_shows_its_location_kind(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.base_url}/b/{located_agent(live_server)}")
    booking = widget(page)
    kind = {name: booking.locator("[data-meeting-type-id]", has_text=name) for name in LOCATIONS}
    expect(kind["Call me"]).to_contain_text("30 min · Phone call")
    expect(kind["Call us"]).to_contain_text("30 min · Phone call")
    expect(kind["Zoom room"]).to_contain_text("30 min · Zoom link")  # from the host the public answer names
    expect(kind["Own room"]).to_contain_text("30 min · Video link")  # a host of no known service
    expect(kind["Office visit"]).to_contain_text("30 min · In person")
    demo = booking.locator("[data-meeting-type-id]", has_text="Demo")  # kind none: no location label
    expect(demo).to_contain_text("Demo30 min")
    expect(demo).not_to_contain_text("·")
    # Before booking, the answer (and so the page) carries no location value.
    assert ZOOM_ROOM not in page.content()


def test_the_phone_field_is_required_and_validated_like_the_server(
    context: BrowserContext, live_server: LiveServer
) -> None:
    add_axe(context)
    page = context.new_page()
    posts = booking_posts(page)
    page.goto(f"{live_server.base_url}/b/{located_agent(live_server)}?locale=de")
    booking = widget(page)
    choose_type(booking, "Call us")  # the agent's number: no phone field
    choose_day(booking)
    choose_last_hour(booking)
    booking.get_by_role("button", name="Weiter").click()
    expect(booking.locator("[name=first_name]")).to_be_visible()
    expect(booking.locator("[name=phone]")).to_have_count(0)
    booking.get_by_role("button", name="Zurück").click()
    booking.get_by_role("button", name="Zurück").click()
    booking.get_by_role("button", name="Zurück").click()

    choose_type(booking, "Call me")
    choose_day(booking)
    choose_last_hour(booking)
    booking.get_by_role("button", name="Weiter").click()
    phone = booking.get_by_label("Telefonnummer")
    expect(phone).to_have_attribute("type", "tel")
    expect(phone).to_have_attribute("autocomplete", "tel")
    expect(phone).to_have_attribute("required", "")
    assert violations(page) == []
    fill_form(booking)
    book = booking.get_by_role("button", name="Gespräch buchen")
    for bad, message in (("", "Bitte füllen Sie dieses Feld aus."), ("call me maybe", "Telefonnummer ein")):
        phone.fill(bad)
        book.click()
        expect(phone).to_have_attribute("aria-invalid", "true")
        expect(booking.locator("#e-phone")).to_contain_text(message)
    phone.fill("+" + "1" * 32)  # 33 characters
    book.click()
    expect(booking.locator("#e-phone")).to_contain_text("höchstens 32 Zeichen")
    assert violations(page) == []
    assert posts == []  # nothing invalid was sent

    phone.fill(" +48 (22) 123-45-67 ")
    book.click()
    expect(booking.get_by_role("heading", name="Ihr Termin ist gebucht!")).to_be_visible()
    assert [(p["phone"], p["locale"]) for p in posts] == [("+48 (22) 123-45-67", "de")]
    expect(booking.locator("[data-location-kind=phone]")).to_contain_text("Wir rufen Sie unter +48 (22) 123-45-67 an.")
    assert violations(page) == []


def test_the_confirmation_shows_how_to_join(page: Page, live_server: LiveServer) -> None:
    link = located_agent(live_server)
    expected = {
        "Call us": ("Phone call", "Call +48 22 123 45 67."),
        "Zoom room": ("Zoom link", None),
        "Office visit": ("In person", "Address: ul. Prosta 1 <b>, Warszawa"),
    }
    for name, (label, text) in expected.items():
        page.goto(f"{live_server.base_url}/b/{link}")
        booking = widget(page)
        to_form_of(booking, name)
        fill_form(booking, {**FORM, "email": f"{name.split()[0].lower()}@example.com"})
        booking.get_by_role("button", name="Book the call").click()
        expect(booking.get_by_role("heading", name="You're booked!")).to_be_visible()
        where = booking.locator("[data-k=where]")
        expect(where).to_contain_text(label)
        if text:
            expect(where).to_contain_text(text)  # shown as text, never as markup
        join = booking.get_by_role("link", name="Join the call")
        if name == "Zoom room":
            expect(join).to_have_attribute("href", ZOOM_ROOM)
            expect(join).to_have_attribute("target", "_blank")
        else:
            expect(join).to_have_count(0)

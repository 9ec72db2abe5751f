"""The widget in en, pl, de, fr and es: strings, Intl dates and hours, how the locale is chosen, the
locale sent with the booking, and the demo chat's language switch."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Request, expect

from tests.browser.conftest import RECORD_HOST_EVENTS, LiveServer
from tests.browser.steps import FORM, choose_day, choose_last_hour, choose_type, widget

pytestmark = pytest.mark.browser

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "pl": "styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}
WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "pl": "poniedziałek wtorek środa czwartek piątek sobota niedziela",
    "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
}
# "December 2026", "grudzień 2026", "Dezember 2026", "décembre 2026", "diciembre de 2026"
MONTH_HEADING = {
    lang: re.compile(rf"^({names.replace(' ', '|')})( de)? \d{{4}}$", re.I) for lang, names in MONTHS.items()
}
# An hour: "2:30 PM" in English, "14:30" (24 hours, Polish "0:00") in the other four.
HOUR = {"en": re.compile(r"^\d{1,2}:\d{2}\s?[AP]M$")}
HOUR |= {lang: re.compile(r"^\d{1,2}:\d{2}$") for lang in ("pl", "de", "fr", "es")}
# Strings that are rightly the same in English: names, placeholders only, loanwords.
SAME_AS_ENGLISH = {"kMeet", "at", "min", "optional", "description", "email"}


def strings(page: Page) -> dict[str, dict[str, str]]:
    dictionaries: dict[str, dict[str, str]] = page.evaluate("window.Meetings.strings")
    return dictionaries


def booking_posts(page: Page) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/bookings"):
            posts.append(json.loads(request.post_data or "{}"))

    page.on("request", record)
    return posts


def book_in(booking: Locator, t: dict[str, str], lang: str) -> None:
    """A whole booking, reading each step's strings in the dictionary of `lang`."""
    expect(booking.get_by_role("heading", name=t["type"])).to_be_visible()
    expect(booking.locator("[data-meeting-type-id]").first).to_contain_text(t["min"].replace("{n}", "30"))
    choose_type(booking, "Demo")
    expect(booking.get_by_role("heading", name=t["date"])).to_be_visible()
    expect(booking.locator("h3")).to_have_text(MONTH_HEADING[lang])
    expect(booking.get_by_role("button", name=t["next"])).to_be_visible()
    choose_day(booking)
    expect(booking.get_by_role("heading", name=t["time"])).to_be_visible()
    expect(booking.get_by_label(t["tz"])).to_be_visible()
    expect(booking.locator("[data-start]").first).to_have_text(HOUR[lang])
    choose_last_hour(booking)
    booking.get_by_role("button", name=t["cont"], exact=True).click()
    expect(booking.get_by_role("heading", name=t["details"])).to_be_visible()
    booking.get_by_role("button", name=t["book"]).click()
    expect(booking.get_by_text(t["required"]).first).to_be_visible()
    for name in ("first_name", "last_name", "email"):
        expect(booking.get_by_label(t[name], exact=True)).to_be_visible()
    for name, value in FORM.items():
        booking.locator(f"[name={name}]").fill(value)
    booking.get_by_role("button", name=t["book"]).click()
    expect(booking.get_by_role("heading", name=t["done"])).to_be_visible()
    expect(booking.get_by_text(t["sent"].replace("{email}", FORM["email"]))).to_be_visible()
    when = booking.locator(".step > p").first.inner_text()
    assert re.search(rf"\b({WEEKDAYS[lang].replace(' ', '|')})\b", when, re.I), when
    expect(booking.get_by_role("link", name=t["ics"])).to_be_visible()
    expect(booking.get_by_role("link", name=t["manage"])).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "pl", "de", "fr", "es"])
def test_a_booking_on_the_hosted_page_in_each_language(browser: Browser, live_server: LiveServer, lang: str) -> None:
    """?locale= on the hosted page picks the language over an English browser; the POST carries it."""
    _, link, _ = live_server.agent(min_notice_minutes=60)
    context = browser.new_context(locale="en-US", timezone_id="Europe/Berlin")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        posts = booking_posts(page)
        page.goto(f"{live_server.base_url}/b/{link}?locale={lang}")
        booking = widget(page)
        t = strings(page)[lang]
        expect(booking.get_by_role("region")).to_have_attribute("lang", lang)
        book_in(booking, t, lang)
        assert [post["locale"] for post in posts] == [lang]
    finally:
        context.close()


def test_every_dictionary_is_complete_and_translated(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.base_url}/demo/chat")
    expect(widget(page).locator("[data-meeting-type-id]").first).to_be_visible()
    dictionaries = strings(page)
    assert sorted(dictionaries) == ["de", "en", "es", "fr", "pl"]
    english = dictionaries["en"]
    for lang, t in dictionaries.items():
        assert t.keys() == english.keys(), lang
        assert all(isinstance(text, str) and text.strip() for text in t.values()), lang
        placeholders = {key: sorted(re.findall(r"\{\w+\}", text)) for key, text in t.items()}
        assert placeholders == {key: sorted(re.findall(r"\{\w+\}", text)) for key, text in english.items()}, lang
        if lang != "en":
            untranslated = [key for key in t if t[key] == english[key] and key not in SAME_AS_ENGLISH]
            assert untranslated == [], lang


def test_the_locale_comes_from_mount_then_attribute_then_browser_then_page(
    browser: Browser, live_server: LiveServer
) -> None:
    _, link, _ = live_server.agent()
    html = f"""<!doctype html><html lang="es"><body>
      <div id="mounted"></div>
      <meetings-booking id="attr" link="{link}" locale="fr"></meetings-booking>
      <meetings-booking id="lang" link="{link}" lang="de-AT"></meetings-booking>
      <meetings-booking id="plain" link="{link}"></meetings-booking>
      <script>window.Meetings = {{ q: [["#mounted", {{ link: "{link}", locale: "pl-PL" }}]] }};</script>
      <script src="{live_server.base_url}/widget.js" async></script></body></html>"""
    url = live_server.host.page(f"/locales-{link}", html)
    expected = [("#mounted", "pl", "Wybierz rodzaj spotkania"), ("#attr", "fr", "Choisissez un rendez-vous")]
    expected += [("#lang", "de", "Terminart wählen")]
    # A browser in Japanese (no dictionary) on a Spanish page: the page's language.
    for browser_locale, plain in (("ja-JP", "Elige una reunión"), ("de-DE", "Terminart wählen")):
        context = browser.new_context(locale=browser_locale)
        context.add_init_script(RECORD_HOST_EVENTS)
        try:
            page = context.new_page()
            page.goto(url)
            for selector, _lang, heading in [*expected, ("#plain", "", plain)]:
                expect(page.locator(selector).get_by_role("heading", name=heading)).to_be_visible()
        finally:
            context.close()


def test_the_demo_chat_switches_the_widget_language(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.base_url}/demo/chat")
    booking = widget(page)
    expect(booking.get_by_role("heading", name="Choose a meeting")).to_be_visible()
    switch = page.get_by_label("Widget language")
    switches = (("de", "Terminart wählen", "Datum wählen"), ("es", "Elige una reunión", "Elige un día"))
    for lang, heading, type_step in switches:
        switch.select_option(lang)
        expect(booking.get_by_role("heading", name=heading)).to_be_visible()
        choose_type(booking, "Demo")
        expect(booking.get_by_role("heading", name=type_step)).to_be_visible()
        expect(booking.locator("h3")).to_have_text(MONTH_HEADING[lang])
    switch.select_option("")
    expect(booking.get_by_role("heading", name="Choose a meeting")).to_be_visible()

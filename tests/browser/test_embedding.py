"""Embedding on another origin: the custom element, Meetings.mount with options, the pre-load queue,
several independent widgets, and chat unfurl of messages added later."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shared.db import session_scope
from shared.models import Event
from tests.browser.conftest import LiveServer
from tests.browser.steps import choose_day, choose_type, dispatched_events, host_events, wait_until

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head><body>
<script>window.Meetings = window.Meetings || {{q: [], mount: function () {{ this.q.push(arguments); }}}};</script>
<meetings-booking id="first" link="{first}"></meetings-booking>
<div id="second"></div>
<script>
  Meetings.mount(document.getElementById("second"), {{
    link: "{second}", locale: "pl", visitorId: "crm-contact-42",
    prefill: {{first_name: "Jan", last_name: "Kowalski", email: "jan@example.com"}}
  }});
  document.getElementById("second").addEventListener("meetings:calendar_1st_step", function (e) {{
    window.__secondOwn = e.detail;
  }});
</script>
<div id="chat" data-meetings-chat><p>Welcome! How can we help?</p></div>
<script src="{base}/widget.js" async></script>
</body></html>"""


def test_two_widgets_on_a_host_page_work_independently(page: Page, live_server: LiveServer) -> None:
    _, first_link, _ = live_server.agent(name="First Agent")
    second_id, second_link, second_types = live_server.agent(name="Second Agent")
    url = live_server.host.page(
        "/two.html", HOST_PAGE.format(first=first_link, second=second_link, base=live_server.base_url)
    )
    page.goto(url)
    first, second = page.locator("#first"), page.locator("#second")

    # The custom element (English, the browser's language) and the queued mount (Polish by option).
    expect(first.get_by_role("heading", name="Choose a meeting")).to_be_visible()
    expect(second.get_by_role("heading", name="Wybierz rodzaj spotkania")).to_be_visible()
    expect(first.get_by_text("First Agent")).to_be_visible()
    expect(second.get_by_text("Second Agent")).to_be_visible()

    choose_type(first)
    choose_day(first)
    expect(first.get_by_role("heading", name="Choose a time")).to_be_visible()
    expect(second.get_by_role("heading", name="Wybierz rodzaj spotkania")).to_be_visible()

    choose_type(second, "Assistance")
    choose_day(second)
    second.locator("[data-start]").last.click()
    second.get_by_role("button", name="Dalej").click()
    expect(second.locator("[name=first_name]")).to_have_value("Jan")
    expect(second.locator("[name=email]")).to_have_value("jan@example.com")
    # The first widget kept its own step.
    expect(first.get_by_role("heading", name="Choose a time")).to_be_visible()

    posted = host_events(page)
    by_link = {link: [e for e in posted if e["link"] == link] for link in (first_link, second_link)}
    assert [e["type"] for e in by_link[first_link]] == ["meetings:calendar_1st_step", "meetings:calendar_2nd_step"]
    assert len(by_link[second_link]) == 3
    assert {e["visitor_id"] for e in by_link[second_link]} == {"crm-contact-42"}
    assert by_link[first_link][0]["session_id"] != by_link[second_link][0]["session_id"]
    assert dispatched_events(page) == posted
    assert page.evaluate("window.__secondOwn.link") == second_link

    # Cross-origin calls were allowed (MEETINGS_EMBED_ORIGINS) and carry the host's visitor id.
    def second_agent_events() -> list[tuple[str, str | None, int | None]]:
        with session_scope(live_server.db) as session:
            rows = session.scalars(select(Event).where(Event.agent_id == second_id).order_by(Event.id))
            return [(e.name, e.visitor_id, e.meeting_type_id) for e in rows]

    wait_until(lambda: len(second_agent_events()) == 3)
    assert second_agent_events() == [
        (name, "crm-contact-42", second_types["Assistance"])
        for name in ("calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step")
    ]


def test_chat_messages_added_later_unfurl_only_our_links(page: Page, live_server: LiveServer) -> None:
    _, first_link, _ = live_server.agent()
    _, later_link, _ = live_server.agent(name="Later Agent")
    url = live_server.host.page(
        "/chat.html", HOST_PAGE.format(first=first_link, second=first_link, base=live_server.base_url)
    )
    page.goto(url)
    expect(page.locator("#first").get_by_role("heading", name="Choose a meeting")).to_be_visible()
    page.evaluate(
        """([base, link]) => {
          const chat = document.getElementById("chat");
          const other = document.createElement("p");
          other.innerHTML = 'Elsewhere: <a href="https://other.example/b/AAAAAAAAAAAAAAAAAAAAAAAAAAA">a link</a>';
          chat.appendChild(other);
          const message = document.createElement("p");
          message.textContent = "Sure, book a slot: " + base + "/b/" + link + " and see you soon!";
          chat.appendChild(message);
        }""",
        [live_server.base_url, later_link],
    )
    unfurled = page.locator("#chat meetings-booking")
    expect(unfurled).to_have_count(1)
    expect(unfurled.get_by_text("Later Agent")).to_be_visible()
    expect(unfurled.locator("[data-meeting-type-id]")).to_have_count(3)
    # The message keeps its text and its link, now clickable.
    expect(page.locator("#chat a", has_text=f"/b/{later_link}")).to_have_attribute(
        "href", f"{live_server.base_url}/b/{later_link}"
    )
    expect(page.locator("#chat p").last).to_contain_text("and see you soon!")

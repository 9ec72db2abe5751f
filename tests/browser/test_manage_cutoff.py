"""The hosted manage page within the agent's change cut-off: a clear message instead of the buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def _next_half_hour(after: timedelta) -> datetime:
    moment = datetime.now(UTC) + after
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=30 if moment.minute < 30 else 60)


def _book(live_server: LiveServer, link: str, type_id: int, start: datetime) -> str:
    response = httpx.post(
        f"{live_server.base_url}/api/v1/links/{link}/bookings",
        json={
            "meeting_type_id": type_id,
            "start": start.isoformat(),
            "timezone": "Asia/Kolkata",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company_name": "Analytical Engines",
            "email": "ada@example.com",
            "description": "",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["manage_url"])


def test_within_the_cutoff_the_manage_page_says_so_and_offers_no_buttons(page: Page, live_server: LiveServer) -> None:
    # A cut-off of a day; one call in about three hours (inside it), one in three days (outside).
    _, link, types = live_server.agent(name="Cut-off Agent", change_cutoff_minutes=24 * 60)
    soon = _book(live_server, link, types["Demo"], _next_half_hour(timedelta(hours=3)))
    later_start = _next_half_hour(timedelta(days=3))
    later = _book(live_server, link, types["Demo"], later_start)

    page.goto(soon)
    closed = page.locator("[data-changes-closed]")
    expect(closed).to_be_visible()
    expect(closed).to_contain_text("This booking can no longer be changed online")
    expect(closed).to_contain_text("please contact")
    expect(closed).to_contain_text("Cut-off Agent")
    expect(closed).to_contain_text("(Asia/Kolkata)")
    expect(page.get_by_role("button", name="Cancel booking")).to_have_count(0)
    expect(page.locator("#reschedule")).to_have_count(0)

    page.goto(later)
    expect(page.locator("[data-changes-closed]")).to_have_count(0)
    until = (later_start - timedelta(days=1)).astimezone(ZoneInfo("Asia/Kolkata"))
    expect(page.locator("[data-changes-until]")).to_contain_text(
        f"until {until:%A}, {until.day} {until:%B %Y}, {until:%H:%M}"
    )
    expect(page.get_by_role("button", name="Cancel booking")).to_be_visible()

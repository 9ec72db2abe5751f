"""Driving the widget like a user, through the markup hooks of SPEC §10 (Playwright pierces open shadow roots)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

FORM = {
    "first_name": "Maria",
    "last_name": "Nowak",
    "company_name": "Nowak & Daughters <Ltd>",
    "email": "maria@example.com",
    "description": "Routing by language, 12 agents.",
}


def widget(page: Page, index: int = 0) -> Locator:
    return page.locator("meetings-booking").nth(index)


def choose_type(scope: Locator, name: str = "Demo") -> None:
    scope.locator("[data-meeting-type-id]", has_text=name).click()


def choose_day(scope: Locator) -> str:
    """A free day, tomorrow's rather than today's when there is one, so its hours cannot pass mid-test."""
    free = scope.locator("[data-date]:not([disabled])")
    expect(free.first).to_be_visible()
    day = free.nth(1) if free.count() > 1 else free.first
    date = day.get_attribute("data-date")
    assert date is not None
    day.click()
    return date


def choose_last_hour(scope: Locator) -> str:
    """The day's last slot: far enough from now that it cannot pass while the test runs."""
    hour = scope.locator("[data-start]").last
    expect(hour).to_be_visible()
    start = hour.get_attribute("data-start")
    assert start is not None
    hour.click()
    return start


def press_continue(scope: Locator) -> None:
    scope.get_by_role("button", name="Continue").click()


def fill_form(scope: Locator, values: dict[str, str] | None = None) -> None:
    for name, value in (values or FORM).items():
        scope.locator(f"[name={name}]").fill(value)


def to_form(scope: Locator, meeting_type: str = "Demo") -> tuple[str, str]:
    """From the first step to the form; returns (date, start)."""
    choose_type(scope, meeting_type)
    date = choose_day(scope)
    start = choose_last_hour(scope)
    press_continue(scope)
    expect(scope.locator("[name=first_name]")).to_be_visible()
    return date, start


def host_events(page: Page) -> list[dict[str, Any]]:
    """What the host page received through window.postMessage, in order."""
    posted: list[dict[str, Any]] = page.evaluate("window.__posted")
    return posted


def dispatched_events(page: Page) -> list[dict[str, Any]]:
    """The CustomEvent details that bubbled from the widget element, in order."""
    dispatched: list[dict[str, Any]] = page.evaluate("window.__dispatched")
    return dispatched


def wait_until(check: Any, timeout: float = 5.0) -> Any:
    """Poll `check()` until it returns something truthy (the widget posts step events in the background)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: last result {result!r}")
        time.sleep(0.05)


DEEP_FOCUS = """(selector) => {
  let active = document.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
  return active ? (selector ? active.matches(selector) : active.tagName + ":" + active.textContent) : null;
}"""


def focused(page: Page) -> str:
    """'TAG:text' of the element that has focus, looking inside shadow roots."""
    description: str = page.evaluate(DEEP_FOCUS, None)
    return description


def tab_until(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the focused element (inside shadow roots too) matches the selector."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(DEEP_FOCUS, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def horizontal_overflow(page: Page) -> list[str]:
    """Anything wider than the viewport: the document, the widgets, or any element inside their shadow roots."""
    problems: list[str] = page.evaluate(
        """() => {
      const width = document.documentElement.clientWidth, out = [];
      if (document.documentElement.scrollWidth > width) out.push("document " + document.documentElement.scrollWidth);
      for (const host of document.querySelectorAll("meetings-booking")) {
        const box = host.getBoundingClientRect();
        if (box.left < 0 || box.right > width) out.push("widget " + box.left + ".." + box.right);
        for (const el of host.shadowRoot.querySelectorAll("*")) {
          const r = el.getBoundingClientRect();
          const outside = r.left < box.left - 0.5 || r.right > box.right + 0.5;
          if (r.width && outside) out.push(el.tagName + " " + r.left + ".." + r.right);
        }
      }
      return out;
    }"""
    )
    return problems

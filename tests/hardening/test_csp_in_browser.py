"""The CSP the server sends lets the widget run, and frame-ancestors decides who may frame the hosted page.

Headless Chromium against a real server process: the pages must render the widget and load data
with zero CSP violations; a host origin listed in MEETINGS_FRAME_ANCESTORS can frame /b/{link},
any other origin cannot.
"""

from __future__ import annotations

import shutil
import threading
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from shared.db import build_engine, build_sessionmaker
from shared.settings import Settings
from tests.factories import committed_agent
from tests.live import running_api

pytestmark = pytest.mark.browser

EVERY_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI), true);
"""


class FramingSite:
    """Another origin whose page frames the URL given in `?src=`."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                src = parse_qs(urlsplit(self.path).query).get("src", ["about:blank"])[0]
                body = (
                    f'<!doctype html><title>host</title><iframe src="{escape(src)}" width="400" height="600"></iframe>'
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def framing(self, url: str) -> str:
        return f"{self.origin}/?{urlencode({'src': url})}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chromium(chromium_browser: Browser) -> Browser:
    return chromium_browser


def _violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__csp")
    return found


def test_pages_run_the_widget_without_csp_violations_and_frame_only_for_allowed_hosts(
    chromium: Browser, migrated_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "meetings.db"
    shutil.copyfile(migrated_template, path)
    database_url = f"sqlite:///{path}"
    engine = build_engine(Settings(database_url=database_url))
    _, link, _ = committed_agent(build_sessionmaker(engine), weekly=EVERY_DAY, min_notice_minutes=0, timezone="UTC")
    engine.dispose()
    allowed_host, other_host = FramingSite(), FramingSite()
    try:
        env = {"MEETINGS_FRAME_ANCESTORS": f"'self' {allowed_host.origin}"}
        with running_api(database_url, extra_env=env) as base_url:
            context = chromium.new_context(locale="en-US", timezone_id="UTC")
            context.add_init_script(RECORD_VIOLATIONS)
            context.set_default_timeout(15_000)
            page = context.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))

            page.goto(f"{base_url}/b/{link}")
            page.locator("[data-meeting-type-id]").first.click()
            page.locator("[data-date]:not([disabled])").first.wait_for()  # the widget fetched /days
            assert _violations(page) == []

            page.goto(f"{base_url}/demo/chat")
            page.locator("[data-meeting-type-id]").first.click()
            page.locator("[data-date]:not([disabled])").first.wait_for()
            page.locator("#host-events li").first.wait_for()  # the page's own nonce'd script ran too
            assert _violations(page) == []
            assert not [text for text in console if "Content Security Policy" in text]

            page.goto(allowed_host.framing(f"{base_url}/b/{link}"))
            page.frame_locator("iframe").locator("[data-meeting-type-id]").first.wait_for()

            page.goto(other_host.framing(f"{base_url}/b/{link}"), wait_until="load")
            (child,) = page.main_frame.child_frames
            assert not child.url.startswith(base_url)  # Chromium shows its error page instead
            assert any("frame-ancestors" in text for text in console)
            context.close()
    finally:
        allowed_host.close()
        other_host.close()

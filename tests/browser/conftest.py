"""One real API server (uvicorn on 127.0.0.1) and one headless Chromium for the whole browser run.

The server runs the real app with the real clock on its own migrated SQLite file; tests create
their own agents, so they stay independent while sharing the server and the browser.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy.orm import Session, sessionmaker

from shared.db import build_engine, build_sessionmaker
from shared.settings import Settings
from tests.factories import committed_agent
from widget_api.app import create_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EVERY_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# Events every page records, from both channels the widget uses to talk to its host.
RECORD_HOST_EVENTS = """
window.__posted = []; window.__dispatched = [];
window.addEventListener("message", (e) => {
  if (e.data && typeof e.data.type === "string" && e.data.type.startsWith("meetings:")) window.__posted.push(e.data);
});
for (const name of ["calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step", "booking_confirmed", "error"]) {
  document.addEventListener("meetings:" + name, (e) => window.__dispatched.push(e.detail));
}
"""


class HostSite:
    """A host web site on its own origin (another loopback port) serving pages that embed the widget.

    A real server rather than intercepted requests: Chromium only lets pages in the loopback address
    space reach a loopback API.
    """

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    db: sessionmaker[Session]
    settings: Settings
    host: HostSite  # an allowed embed origin
    refused_host: HostSite  # an origin that is not in MEETINGS_EMBED_ORIGINS

    def agent(self, **overrides: object) -> tuple[int, str, dict[str, int]]:
        """A committed agent bookable every day, all day, from now on (the server's clock is real)."""
        defaults: dict[str, object] = {"timezone": "UTC", "weekly": EVERY_DAY, "min_notice_minutes": 0}
        return committed_agent(self.db, **{**defaults, **overrides})


@contextmanager
def serving(settings_for: Callable[[str], Settings]) -> Iterator[tuple[str, Settings]]:
    """The real app in uvicorn on a free loopback port, in a thread: yields its base URL and the settings
    it runs with (`settings_for(base_url)`)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings_for(base_url)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        yield base_url, settings
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def browser_settings(base_url: str, path: Path, *embed_origins: str, **more: object) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{path}",
        base_url=base_url,
        admin_token="browser-admin-token-0123456789",
        secret_key="browser-secret-key-0123456789abcdef",
        embed_origins=",".join([base_url, *embed_origins]),
        **more,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("browser") / "meetings.db"
    shutil.copyfile(migrated_template, path)
    host, refused_host = HostSite(), HostSite()
    try:
        with serving(lambda base_url: browser_settings(base_url, path, host.origin)) as (base_url, settings):
            engine = build_engine(settings)
            live = LiveServer(
                base_url=base_url,
                db=build_sessionmaker(engine),
                settings=settings,
                host=host,
                refused_host=refused_host,
            )
            # The demo chat shows the first active non-manager agent: create it before any other.
            live.agent(name="Anna Kowalska", email="anna@demo.example")
            try:
                yield live
            finally:
                engine.dispose()
    finally:
        host.close()
        refused_host.close()


@pytest.fixture(scope="session")
def browser(chromium_browser: Browser) -> Browser:
    return chromium_browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test (own localStorage), English, UTC, a phone-sized window."""
    context = browser.new_context(locale="en-US", timezone_id="UTC", viewport={"width": 420, "height": 900})
    context.add_init_script(RECORD_HOST_EVENTS)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()

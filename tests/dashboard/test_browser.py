"""The running dashboard in headless Chromium: sign in as the demo manager and see the funnel chart.

`streamlit run dashboard/app.py` runs as a real server process on a copy of the demo database.
Screenshots go to the test's temporary folder; with MEETINGS_UPDATE_SCREENSHOTS=1 they replace
docs/dashboard-*.png (the README's pictures) instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.conftest import APP, DemoDatabase
from tests.live import free_port

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def dashboard_url(demo_db: DemoDatabase) -> Iterator[str]:
    """The dashboard served by Streamlit on a free loopback port (DATABASE_URL set by demo_db)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "minimal",
        ],
        env={**os.environ, "DATABASE_URL": demo_db.url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _screenshot(page: Page, name: str, tmp_path: Path) -> Path:
    folder = DOCS if os.environ.get("MEETINGS_UPDATE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(exist_ok=True)
    path = folder / f"dashboard-{name}.png"
    page.wait_for_timeout(400)  # let Plotly finish its transition
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    return path


@pytest.mark.browser
def test_the_manager_signs_in_and_sees_the_funnel_chart(
    dashboard_url: str, tmp_path: Path, chromium_browser: Browser
) -> None:
    page = chromium_browser.new_page(viewport={"width": 1400, "height": 1500})
    try:
        page.goto(dashboard_url)
        page.get_by_label("Email", exact=True).fill("manager@example.com")
        page.locator("input[type=password]").fill("demo")
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("heading", name="Booking funnel")).to_be_visible(timeout=20_000)
        funnel = page.locator(".js-plotly-plot .funnellayer")
        expect(funnel.first).to_be_visible(timeout=20_000)
        expect(page.locator(".js-plotly-plot").filter(has_text="4 · Form submitted").first).to_be_visible()
        _screenshot(page, "funnel", tmp_path)

        page.get_by_role("link", name="Calendars", exact=True).click()
        expect(page.get_by_role("heading", name="Upcoming bookings")).to_be_visible(timeout=20_000)
        expect(page.locator(".js-plotly-plot .barlayer").first).to_be_visible(timeout=20_000)
        _screenshot(page, "calendars", tmp_path)

        page.get_by_role("link", name="Calendar settings", exact=True).click()
        expect(page.get_by_role("button", name="Save hours and rules")).to_be_visible(timeout=20_000)
        expect(page.get_by_text("/b/").first).to_be_visible(timeout=20_000)
        _screenshot(page, "settings", tmp_path)
    finally:
        page.close()

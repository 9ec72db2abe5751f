"""Widget load benchmark (SPEC §13): widget.js loaded -> first slots on screen, headless Chromium, localhost.

Runs the real app under uvicorn on 127.0.0.1 with a migrated temporary SQLite database and one demo
agent, opens /demo/chat (the link in the agent's message unfurls into the widget) in a fresh browser
profile per run, and lets a tiny driver injected into the page click the first meeting type and the
first free day the moment they appear, so only the widget and the API are timed, not a human.

Measured from the `responseEnd` of widget.js (Resource Timing) to:
  types  the meeting-type buttons are in the DOM
  slots  the hour buttons ([data-start]) are in the DOM (two API round trips and three renders later)
  paint  the next frame after that, when the hours are on screen
Budget: slots on screen <= 300 ms (median of the runs). Also prints widget.js's size gzipped (budget 15 KB).

    .venv/bin/python bench/widget_load.py [--runs 15] [--screenshot docs/widget-chat.png]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Browser, sync_playwright

from shared.agents.service import create_agent
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.migrate import upgrade_to_head
from shared.settings import Settings
from widget_api.routes.pages import WIDGET_SOURCE

BUDGET_MS = 300.0
SIZE_BUDGET_BYTES = 15 * 1024
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EVERY_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

# Injected before the page's own scripts: waits for the unfurled widget, clicks through to the hours.
DRIVER = """
window.__bench = {};
function watch(root) {
  const bench = window.__bench;
  let typeClicked = false, dayClicked = false;
  const check = () => {
    if (!typeClicked) {
      const type = root.querySelector("[data-meeting-type-id]");
      if (type) { typeClicked = true; bench.types = performance.now(); type.click(); }
    }
    if (!dayClicked) {
      const day = root.querySelector("[data-date]:not([disabled])");
      if (day) { dayClicked = true; day.click(); }
    }
    if (!bench.slots && root.querySelector("[data-start]")) {
      bench.slots = performance.now();
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => { bench.paint = performance.now(); }));
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(root, {childList: true, subtree: true, attributes: true});
  check();
}
new MutationObserver((records, observer) => {
  const host = document.querySelector("meetings-booking");
  if (host && host.shadowRoot) { observer.disconnect(); watch(host.shadowRoot); }
}).observe(document, {childList: true, subtree: true});
"""
READ_TIMINGS = """() => {
  const script = performance.getEntriesByType("resource").find((e) => e.name.endsWith("/widget.js"));
  return {loaded: script.responseEnd, ...window.__bench};
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_server(database_url: str) -> Iterator[str]:
    """`uvicorn widget_api.app:app_factory` in its own process, as deployed; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # As in production (per-client rate limits counted in the database) but with test secrets.
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEETINGS_BASE_URL": base_url,
        "MEETINGS_ENV": "test",
        "MEETINGS_RATE_LIMIT_ENABLED": "true",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "widget_api.app:app_factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def seed_demo_agent(database_url: str, base_url: str) -> None:
    settings = Settings(environment="test", database_url=database_url, base_url=base_url)
    engine = build_engine(settings)
    with session_scope(build_sessionmaker(engine)) as session:
        agent = create_agent(session, name="Anna Kowalska", email="anna@bench.example", timezone="UTC")
        agent.availability.weekly = EVERY_DAY
        agent.availability.min_notice_minutes = 0
    engine.dispose()


def one_run(browser: Browser, base_url: str) -> dict[str, float]:
    context = browser.new_context(locale="en-US", timezone_id="UTC", viewport={"width": 420, "height": 900})
    try:
        context.add_init_script(DRIVER)
        page = context.new_page()
        page.goto(f"{base_url}/demo/chat")
        page.wait_for_function("() => window.__bench && window.__bench.paint", timeout=10_000)
        timings: dict[str, float] = page.evaluate(READ_TIMINGS)
        return {key: timings[key] - timings["loaded"] for key in ("types", "slots", "paint")}
    finally:
        context.close()


def save_screenshot(browser: Browser, base_url: str, path: Path) -> None:
    """The demo chat at phone width with the widget at the calendar step, for the README."""
    context = browser.new_context(
        locale="en-US", timezone_id="Europe/Warsaw", viewport={"width": 360, "height": 800}, device_scale_factor=2
    )
    try:
        page = context.new_page()
        page.goto(f"{base_url}/demo/chat")
        page.locator("[data-meeting-type-id]").first.click()
        page.locator("[data-date]:not([disabled])").first.click()
        page.locator("[data-start]").nth(2).click()
        page.evaluate("document.activeElement.blur()")
        path.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".chat").screenshot(path=str(path))
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="measured runs (at least 10; one warm-up run is extra)")
    parser.add_argument("--screenshot", type=Path, help="also save a screenshot of the widget in the demo chat")
    args = parser.parse_args()
    runs = max(args.runs, 10)

    source = WIDGET_SOURCE.read_bytes()
    gzipped = len(gzip.compress(source, 9))
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'bench.db'}"
        upgrade_to_head(database_url)
        with api_server(database_url) as base_url:
            seed_demo_agent(database_url, base_url)
            served = httpx.get(f"{base_url}/widget.js", headers={"Accept-Encoding": "gzip"})
            served_bytes = int(served.headers["content-length"])
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
                )
                one_run(browser, base_url)  # warm-up: Python imports, SQLite pages, Chromium caches
                results = [one_run(browser, base_url) for _ in range(runs)]
                if args.screenshot:
                    save_screenshot(browser, base_url, args.screenshot)
                version = browser.version
                browser.close()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"widget load, {runs} runs, Chromium {version} headless, {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} CPUs (load average {load:.1f}), Python {platform.python_version()}, "
        f"one uvicorn process with rate limits on, SQLite"
    )
    print()
    print(f"{'from widget.js loaded to':<40} {'median':>8} {'p90':>8} {'min':>8} {'max':>8}")
    labels = {
        "types": "meeting types in the DOM",
        "slots": "first slots in the DOM",
        "paint": "first slots on screen (next frame)",
    }
    for key, label in labels.items():
        values = sorted(r[key] for r in results)
        p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
        print(f"{label:<40} {statistics.median(values):>6.1f}ms {p90:>6.1f}ms {values[0]:>6.1f}ms {values[-1]:>6.1f}ms")
    print()
    median_paint = statistics.median(r["paint"] for r in results)
    print(f"{'check':<40} {'value':>12} {'budget':>12} {'ok':>4}")
    print(
        f"{'first slots on screen, median':<40} {median_paint:>10.1f}ms {BUDGET_MS:>10.0f}ms "
        f"{'yes' if median_paint <= BUDGET_MS else 'NO':>4}"
    )
    print(
        f"{'widget.js gzipped (gzip -9)':<40} {gzipped:>10} B {SIZE_BUDGET_BYTES:>10} B "
        f"{'yes' if gzipped <= SIZE_BUDGET_BYTES else 'NO':>4}"
    )
    print(
        f"{'widget.js as served (Content-Encoding)':<40} {served_bytes:>10} B {SIZE_BUDGET_BYTES:>10} B "
        f"{'yes' if served_bytes <= SIZE_BUDGET_BYTES else 'NO':>4}"
    )
    print(f"{'widget.js uncompressed':<40} {len(source):>10} B")
    if args.screenshot:
        print(f"\nscreenshot: {args.screenshot}")


if __name__ == "__main__":
    main()

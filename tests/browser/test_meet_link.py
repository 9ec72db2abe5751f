"""The Google Meet link on the widget's confirmation step (SPEC §14, issue 16's "done when"): the
booking answer comes before the link, which is made with the calendar event by the worker; the widget
asks again and shows it once it is there.

Real parts only: the app in uvicorn with its Google endpoints pointed at the Google stand-in (real
google-api-python-client), the agent connected through the stand-in's consent screen, the real worker
writing the event, Chromium clicking through the hosted page.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from meetings.jobs import job_handlers
from shared.db import build_engine, build_sessionmaker, session_scope
from shared.models import Booking
from shared.outbox.worker import run_worker
from shared.settings import Settings
from tests.browser.conftest import EVERY_DAY, browser_settings, serving
from tests.browser.steps import FORM, fill_form, to_form, widget
from tests.factories import committed_agent
from tests.google.conftest import REDIRECT_URI, connect
from tests.google.standin import GoogleStandIn
from widget_api.app import create_app

pytestmark = pytest.mark.browser


@dataclass
class MeetServer:
    base_url: str
    settings: Settings
    db: sessionmaker[Session]
    link: str


@pytest.fixture
def meet_server(tmp_path: Path, migrated_template: Path) -> Iterator[MeetServer]:
    """The app with Google configured (the stand-in), and an agent connected whose Demo uses Meet."""
    standin = GoogleStandIn().start()
    standin.redirect_uris.add(REDIRECT_URI)
    path = tmp_path / "meet.db"
    shutil.copyfile(migrated_template, path)
    google = {
        "google_client_id": standin.client_id,
        "google_client_secret": standin.client_secret,
        "google_redirect_uri": REDIRECT_URI,
        "google_auth_uri": standin.auth_uri,
        "google_token_uri": standin.token_uri,
        "google_api_endpoint": standin.api_endpoint,
    }
    try:
        with serving(lambda base_url: browser_settings(base_url, path, **google)) as (base_url, settings):
            engine = build_engine(settings)
            db = build_sessionmaker(engine)
            agent_id, link, types = committed_agent(db, timezone="UTC", weekly=EVERY_DAY, min_notice_minutes=60)
            admin = {"Authorization": f"Bearer {settings.admin_token}"}
            with TestClient(create_app(settings)) as client:  # the consent flow, as a manager would
                connect(client, agent_id, admin)
                answer = client.patch(
                    f"/api/v1/admin/meeting-types/{types['Demo']}",
                    json={"location": {"kind": "google_meet"}},
                    headers=admin,
                )
                assert answer.status_code == 200, answer.text
            try:
                yield MeetServer(base_url=base_url, settings=settings, db=db, link=link)
            finally:
                engine.dispose()
    finally:
        standin.stop()


def test_the_confirmation_shows_the_meet_link_once_the_worker_made_it(page: Page, meet_server: MeetServer) -> None:
    page.goto(f"{meet_server.base_url}/b/{meet_server.link}")
    booking = widget(page)
    to_form(booking, "Demo")
    fill_form(booking, FORM)
    booking.get_by_role("button", name="Book the call").click()
    expect(booking.get_by_role("heading", name="You're booked!")).to_be_visible()
    where = booking.locator("[data-k=where]")
    expect(where).to_contain_text("Google Meet")
    expect(where).to_contain_text("will follow by email")  # the 201 came before the link
    join = booking.get_by_role("link", name="Join the call")
    expect(join).to_have_count(0)

    # The worker writes the Google event; the stand-in answers with the conference's hangoutLink.
    worker = threading.Thread(
        target=run_worker, args=(meet_server.settings,), kwargs={"handlers": job_handlers(), "once": True}
    )
    worker.start()
    worker.join(timeout=60)
    with session_scope(meet_server.db) as session:
        (stored,) = session.query(Booking).all()
        join_url = stored.join_url
    assert join_url is not None
    assert join_url.startswith("https://meet.google.com/")

    expect(join).to_have_attribute("href", join_url, timeout=15_000)  # asked again every few seconds
    expect(where).not_to_contain_text("will follow by email")

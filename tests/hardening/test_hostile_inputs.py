"""Hostile strings into every public input: stored exactly as given, or refused with a 4xx and nothing written.

Strings: unicode (RTL override, zero-width, combining marks, emoji), control characters incl. NUL,
very long values, markup, SQL-ish quotes, lone surrogates (JSON's \\udXXX escapes). Each goes into
one field at a time of a valid request; the answer is never a 5xx. Accepted text is read back
through the API (or the database for step events) and must equal what was sent, character for
character. A refused request leaves every table as it was. `INPUTS_TRIED` counts the requests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Event
from tests.factories import committed_agent
from tests.hardening.test_agent_tokens import table_rows

EXAMPLES = 20
INPUTS_TRIED: list[int] = [0]

NASTY = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1' --",
    "Robert'); DROP TABLE bookings;--",
    "\u202eevil\u202c",
    "zero\u200bwidth\u200d\ufeff",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\r\nSet-Cookie: x=1",
    "\ud800",
    "x\udfffy",
    "😀" * 30,
    "👩‍👩‍👧‍👦",
    "e\u0301" * 40,
    "שלום עולם",
    "مرحبا",
    "Ω≈ç√∫",
    "",
    " ",
    "\t",
    "a" * 100,
    "a" * 101,
    "a" * 2000,
    "a" * 2001,
    "x" * 70_000,
    "%00",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "null",
    "NaN",
    "-1",
    "9" * 40,
]
HOSTILE = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=120),  # incl. controls and surrogates
    st.text(st.sampled_from("\x00\x07\u200b\u200e\u202e\u2028\ufeff<>'\"\\;%&😀é"), min_size=1, max_size=60),
    st.integers(min_value=90, max_value=3000).map(lambda n: "ж" * n),
)
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


@dataclass
class Widget:
    link: str
    type_id: int
    free_starts: itertools.cycle[str] | Any


@pytest.fixture
def widget(client: TestClient, db: sessionmaker[Session]) -> Widget:
    _, link, types = committed_agent(db, min_notice_minutes=0)
    type_id = types["Demo"]
    starts: list[str] = []
    day = date(2026, 6, 1)
    while len(starts) < 200:
        day += timedelta(days=1)
        answer = client.get(
            f"/api/v1/links/{link}/slots", params={"meeting_type_id": type_id, "date": day.isoformat(), "tz": "UTC"}
        )
        starts += [slot["start"] for slot in answer.json()["slots"]]
    return Widget(link=link, type_id=type_id, free_starts=iter(starts))


def form(widget: Widget, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meeting_type_id": widget.type_id,
        "start": next(widget.free_starts),
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Engines",
        "email": "ada@example.com",
        "description": "Hello",
        "visitor_id": "visitor-1",
        "session_id": "session-1",
    }
    body.update(overrides)
    return body


def send_and_judge(db: sessionmaker[Session], send: Callable[[], Any], accepted: Callable[[Any], None]) -> Any:
    """Never a 5xx; a 4xx leaves every table as it was; a 2xx is checked by `accepted`."""
    INPUTS_TRIED[0] += 1
    before = table_rows(db)
    response = send()
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert table_rows(db) == before, response.text[:500]
        if response.headers["content-type"].startswith("application/json"):
            assert "detail" in response.json()
    else:
        accepted(response)
    return response


BOOKING_TEXT_FIELDS = ["first_name", "last_name", "company_name", "description"]
BOOKING_OTHER_FIELDS = ["email", "timezone", "visitor_id", "session_id", "start"]


@pytest.mark.parametrize("field", BOOKING_TEXT_FIELDS + BOOKING_OTHER_FIELDS)
def test_booking_form_fields(client: TestClient, db: sessionmaker[Session], widget: Widget, field: str) -> None:
    @SETTINGS
    @given(value=HOSTILE)
    def check(value: str) -> None:
        def accepted(response: Any) -> None:
            assert response.status_code == 201
            token = response.json()["manage_url"].rstrip("/").rsplit("/", 1)[-1]
            stored = client.get(f"/api/v1/bookings/{token}").json()
            if field in BOOKING_TEXT_FIELDS:
                assert stored[field] == value
            elif field == "timezone":
                assert stored["timezone"] == value
            elif field == "email":
                assert stored["email"].lower() == value.strip().lower()

        send_and_judge(
            db,
            lambda: client.post(f"/api/v1/links/{widget.link}/bookings", json=form(widget, **{field: value})),
            accepted,
        )

    check()


@pytest.mark.parametrize("field", ["visitor_id", "session_id", "link", "name", "date", "start"])
def test_step_event_fields(client: TestClient, db: sessionmaker[Session], widget: Widget, field: str) -> None:
    @SETTINGS
    @given(value=HOSTILE)
    def check(value: str) -> None:
        body: dict[str, Any] = {
            "visitor_id": "visitor-1",
            "session_id": "session-1",
            "link": widget.link,
            "name": "calendar_1st_step",
            "meeting_type_id": widget.type_id,
            field: value,
        }

        def accepted(response: Any) -> None:
            assert response.status_code == 202
            with session_scope(db) as session:
                event = session.scalars(select(Event).order_by(Event.id.desc())).first()
                assert event is not None
                stored = {
                    "visitor_id": event.visitor_id,
                    "session_id": event.session_id,
                    "name": event.name,
                    "date": event.chosen_date,
                    "start": event.chosen_start,
                }
            if field in stored:
                assert stored[field] == value

        send_and_judge(db, lambda: client.post("/api/v1/events", json=body), accepted)

    check()


@pytest.mark.parametrize(
    ("endpoint", "param"),
    [("days", "month"), ("days", "tz"), ("slots", "date"), ("slots", "tz"), ("days", "meeting_type_id")],
)
def test_query_parameters(
    client: TestClient, db: sessionmaker[Session], widget: Widget, endpoint: str, param: str
) -> None:
    @SETTINGS
    @given(value=HOSTILE)
    def check(value: str) -> None:
        params = {
            "meeting_type_id": str(widget.type_id),
            "tz": "Europe/Warsaw",
            "month" if endpoint == "days" else "date": "2026-06" if endpoint == "days" else "2026-06-02",
        }
        params[param] = value

        def accepted(response: Any) -> None:
            assert response.status_code == 200
            if param == "tz":
                assert response.json()["timezone"] == value

        send_and_judge(db, lambda: client.get(f"/api/v1/links/{widget.link}/{endpoint}", params=params), accepted)

    check()


@pytest.mark.parametrize(
    "template",
    ["/api/v1/links/{}", "/b/{}", "/api/v1/bookings/{}", "/api/v1/bookings/{}/ics", "/manage/{}"],
)
def test_link_and_manage_token_paths(
    client: TestClient, db: sessionmaker[Session], widget: Widget, template: str
) -> None:
    @SETTINGS
    @given(value=HOSTILE)
    def check(value: str) -> None:
        # Percent-encoded as a browser would; lone surrogates have no UTF-8 form, so they go as U+FFFD.
        segment = quote(value.encode("utf-8", "replace"), safe="")

        def accepted(response: Any) -> None:
            raise AssertionError(f"a hostile path was accepted: {response.status_code}")

        response = send_and_judge(db, lambda: client.get(template.format(segment)), accepted)
        assert response.status_code in (404, 405, 422) or (segment == "" and response.status_code in (404, 405))

    check()


def test_cancel_reason_and_reschedule_start(client: TestClient, db: sessionmaker[Session], widget: Widget) -> None:
    booked = client.post(f"/api/v1/links/{widget.link}/bookings", json=form(widget))
    assert booked.status_code == 201
    token = booked.json()["manage_url"].rstrip("/").rsplit("/", 1)[-1]

    @SETTINGS
    @given(value=HOSTILE)
    def check(value: str) -> None:
        send_and_judge(
            db,
            lambda: client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": value}),
            lambda response: None,
        )

    check()

    @SETTINGS
    @given(value=HOSTILE)
    def cancel(value: str) -> None:
        fresh = client.post(f"/api/v1/links/{widget.link}/bookings", json=form(widget)).json()["manage_url"]
        fresh_token = fresh.rstrip("/").rsplit("/", 1)[-1]

        def accepted(response: Any) -> None:
            assert response.json()["cancel_reason"] == (value or None) or response.json()["cancel_reason"] == value

        send_and_judge(
            db, lambda: client.post(f"/api/v1/bookings/{fresh_token}/cancel", json={"reason": value}), accepted
        )

    cancel()


def test_zz_report_how_many_inputs_were_tried() -> None:
    print(f"\nhostile inputs tried: {INPUTS_TRIED[0]}")

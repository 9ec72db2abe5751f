from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import session_scope
from shared.models import Booking, Event
from tests.factories import committed_agent


def _form(meeting_type_id: int, start: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "meeting_type_id": meeting_type_id,
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "email": "ada@example.com",
        "description": "Pricing <b>question</b>",
        "visitor_id": "v-1",
        "session_id": "s-1",
    }
    body.update(overrides)
    return body


def test_book_a_slot_end_to_end(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, types = committed_agent(db)
    info = client.get(f"/api/v1/links/{link}").json()
    assert [m["name"] for m in info["meeting_types"]] == ["Demo", "Onboarding", "Assistance"]

    days = client.get(
        f"/api/v1/links/{link}/days",
        params={"meeting_type_id": types["Demo"], "month": "2026-06", "tz": "Europe/Warsaw"},
    ).json()
    assert "2026-06-01" in days["days"]
    assert "2026-06-06" not in days["days"]

    slots = client.get(
        f"/api/v1/links/{link}/slots",
        params={"meeting_type_id": types["Demo"], "date": "2026-06-02", "tz": "Europe/Warsaw"},
    ).json()["slots"]
    assert slots[0]["start"] == "2026-06-02T09:00:00+02:00"
    assert len(slots) == 16

    created = client.post(f"/api/v1/links/{link}/bookings", json=_form(types["Demo"], slots[0]["start"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["manage_url"].startswith("http://testserver/")

    again = client.post(f"/api/v1/links/{link}/bookings", json=_form(types["Onboarding"], slots[0]["start"]))
    assert again.status_code == 409
    assert again.json()["detail"] == "slot no longer available"

    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        submit = session.scalar(select(Event).where(Event.name == "calendar_4th_step_submit"))
        assert submit is not None
        assert submit.attributes == {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company_name": "Analytical Engines",
            "email": "ada@example.com",
            "description": "Pricing <b>question</b>",
        }

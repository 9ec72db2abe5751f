"""The widget sends its language with every booking (SPEC §14): the API takes any `locale`, known,
unknown or missing, without refusing the booking."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import committed_agent

# 2026-06-01 is a Monday; the test clock is 06:00 UTC on that day.
STARTS = ["2026-06-02T09:00:00+02:00", "2026-06-02T09:30:00+02:00", "2026-06-02T10:00:00+02:00"]


@pytest.mark.parametrize(("locale", "start"), [("pl", STARTS[0]), ("xx-Unknown", STARTS[1]), (None, STARTS[2])])
def test_a_booking_with_any_locale_is_accepted(
    client: TestClient, db: sessionmaker[Session], locale: str | None, start: str
) -> None:
    _, link, types = committed_agent(db)
    body: dict[str, object] = {
        "meeting_type_id": types["Demo"],
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
    }
    if locale is not None:
        body["locale"] = locale
    created = client.post(f"/api/v1/links/{link}/bookings", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["start"] == start

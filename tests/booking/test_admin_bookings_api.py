"""Admin API: GET /bookings — filters by agent, time range (overlap) and status; paginated."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import committed_agent

BOOKINGS = "/api/v1/admin/bookings"


def _book(client: TestClient, link: str, meeting_type_id: int, start: str, email: str) -> dict[str, object]:
    response = client.post(
        f"/api/v1/links/{link}/bookings",
        json={
            "meeting_type_id": meeting_type_id,
            "start": start,
            "timezone": "Europe/Warsaw",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company_name": "AE",
            "email": email,
            "description": "Call me",
            "session_id": "s-" + email.split("@")[0],
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.fixture
def booked(client: TestClient, db: sessionmaker[Session]) -> dict[str, int]:
    """A: Tue 07:00Z Demo, Tue 08:00Z Onboarding (cancelled), Wed 07:00Z Assistance; B: Tue 07:00Z Demo."""
    a, a_link, a_types = committed_agent(db, name="Agent A")
    b, b_link, b_types = committed_agent(db, name="Agent B")
    first = _book(client, a_link, a_types["Demo"], "2026-06-02T09:00:00+02:00", "one@example.com")
    cancelled = _book(client, a_link, a_types["Onboarding"], "2026-06-02T10:00:00+02:00", "two@example.com")
    token = str(cancelled["manage_url"]).rsplit("/", 1)[-1]
    assert client.post(f"/api/v1/bookings/{token}/cancel", json={"reason": "clash"}).status_code == 200
    third = _book(client, a_link, a_types["Assistance"], "2026-06-03T09:00:00+02:00", "three@example.com")
    other = _book(client, b_link, b_types["Demo"], "2026-06-02T09:00:00+02:00", "four@example.com")
    return {
        "a": a,
        "b": b,
        "first": int(str(first["id"])),
        "cancelled": int(str(cancelled["id"])),
        "third": int(str(third["id"])),
        "other": int(str(other["id"])),
        "demo": a_types["Demo"],
    }


def _ids(client: TestClient, headers: dict[str, str], **params: object) -> list[int]:
    response = client.get(BOOKINGS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_lists_bookings_by_start_with_their_details(
    client: TestClient, admin_headers: dict[str, str], booked: dict[str, int]
) -> None:
    page = client.get(BOOKINGS, headers=admin_headers).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 100, 0)
    assert [i["id"] for i in page["items"]] == [booked["first"], booked["other"], booked["cancelled"], booked["third"]]
    first = page["items"][0]
    assert first["start"] == "2026-06-02T07:00:00Z"
    assert first["end"] == "2026-06-02T07:30:00Z"
    assert first["agent"] == {"id": booked["a"], "name": "Agent A"}
    assert first["meeting_type"] == {"id": booked["demo"], "name": "Demo", "duration_minutes": 30}
    assert (first["status"], first["email"], first["timezone"], first["session_id"]) == (
        "confirmed",
        "one@example.com",
        "Europe/Warsaw",
        "s-one",
    )
    assert first["manage_url"].startswith("http://testserver/manage/")
    cancelled = page["items"][2]
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "clash")
    assert cancelled["cancelled_at"] is not None


def test_filters(client: TestClient, admin_headers: dict[str, str], booked: dict[str, int]) -> None:
    h = admin_headers
    assert _ids(client, h, agent_id=booked["b"]) == [booked["other"]]
    assert _ids(client, h, agent_id=booked["a"], status="confirmed") == [booked["first"], booked["third"]]
    assert _ids(client, h, status="cancelled") == [booked["cancelled"]]
    # Overlap: the 08:00–08:45 call is still running at 08:30.
    assert _ids(client, h, **{"from": "2026-06-02T08:30:00Z", "to": "2026-06-03T00:00:00Z"}) == [booked["cancelled"]]
    assert _ids(client, h, **{"from": "2026-06-03T09:00:00+02:00"}) == [booked["third"]]
    assert _ids(client, h, to="2026-06-02T07:00:00Z") == []
    assert _ids(client, h, to="2026-06-02T07:00:01Z") == [booked["first"], booked["other"]]


def test_pagination(client: TestClient, admin_headers: dict[str, str], booked: dict[str, int]) -> None:
    order = [booked["first"], booked["other"], booked["cancelled"], booked["third"]]
    assert _ids(client, admin_headers, limit=3) == order[:3]
    page = client.get(BOOKINGS, params={"limit": 3, "offset": 3}, headers=admin_headers).json()
    assert ([i["id"] for i in page["items"]], page["total"]) == (order[3:], 4)
    assert _ids(client, admin_headers, limit=500, offset=4) == []


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"from": "yesterday"}, "from must be an ISO 8601 datetime such as 2026-06-01T00:00:00Z, got 'yesterday'"),
        (
            {"to": "2026-13-01T00:00:00Z"},
            "to must be an ISO 8601 datetime such as 2026-06-01T00:00:00Z, got '2026-13-01T00:00:00Z'",
        ),
        ({"from": "2026-06-01T00:00:00"}, "from must carry a UTC offset, e.g. 2026-06-01T00:00:00Z"),
        ({"from": "2026-06-02T00:00:00Z", "to": "2026-06-01T00:00:00Z"}, "to must be after from"),
        ({"status": "pending"}, "status must be one of confirmed, cancelled, got 'pending'"),
    ],
)
def test_bad_filters_are_422_with_reason(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, str], reason: str
) -> None:
    response = client.get(BOOKINGS, params=params, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": reason}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 501}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset"), ({"agent_id": "x"}, "agent_id")],
)
def test_bad_paging_is_422(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, object], field: str
) -> None:
    response = client.get(BOOKINGS, params=params, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert [item["loc"] for item in response.json()["detail"]] == [["query", field]]

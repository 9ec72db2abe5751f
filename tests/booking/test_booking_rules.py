"""SPEC §5 booking rules through the public API: buffers belong to every meeting, rules per meeting
type, the change cut-off. Each test states the rule it would catch broken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.availability.cache import answer_version
from shared.db import session_scope
from shared.models import STATUS_CONFIRMED, Booking
from tests.factories import committed_agent

ADMIN = "/api/v1/admin"
EVERY_DAY = {day: [["10:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _form(meeting_type_id: int, start: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meeting_type_id": meeting_type_id,
        "start": start,
        "timezone": "Asia/Kolkata",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "email": "ada@example.com",
        "description": "",
    }
    body.update(overrides)
    return body


def _type(client: TestClient, agent_id: int, headers: dict[str, str], **fields: Any) -> int:
    body = {"name": "Long call", "duration_minutes": 120, **fields}
    response = client.post(f"{ADMIN}/agents/{agent_id}/meeting-types", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _utc_starts(client: TestClient, link: str, type_id: int, day: str, tz: str = "Asia/Kolkata") -> list[str]:
    response = client.get(f"/api/v1/links/{link}/slots", params={"meeting_type_id": type_id, "date": day, "tz": tz})
    assert response.status_code == 200, response.text
    return [datetime.fromisoformat(s["start"]).astimezone(UTC).strftime("%H:%M") for s in response.json()["slots"]]


def _kolkata_agent(db: sessionmaker[Session], **rules: Any) -> tuple[int, str]:
    agent_id, link, _ = committed_agent(
        db, timezone="Asia/Kolkata", weekly=EVERY_DAY, min_notice_minutes=0, slot_interval_minutes=120, **rules
    )
    return agent_id, link


def test_the_issue_13_defect_a_booking_keeps_its_buffer_after(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    # Every day 10:00–18:00 Asia/Kolkata (04:30Z–12:30Z), 120-minute meetings on a 120-minute grid,
    # notice 0, buffer after 120, a confirmed booking at 04:30Z.
    agent_id, link = _kolkata_agent(db, buffer_after_minutes=120, buffer_before_minutes=0)
    long_call = _type(client, agent_id, admin_headers)
    assert _utc_starts(client, link, long_call, "2026-06-03") == ["04:30", "06:30", "08:30", "10:30"]
    first = client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T04:30:00Z"))
    assert first.status_code == 201, first.text

    # It occupies 04:30–08:30Z: 06:30Z (the minute it ends) is not offered, and cannot be booked.
    assert _utc_starts(client, link, long_call, "2026-06-03") == ["08:30", "10:30"]
    refused = client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T06:30:00Z"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == "slot no longer available"
    assert (
        client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T08:30:00Z")).status_code == 201
    )
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 2


def test_the_before_buffer_twin_a_slot_may_not_end_where_a_booking_starts(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link = _kolkata_agent(db, buffer_before_minutes=120, buffer_after_minutes=0)
    long_call = _type(client, agent_id, admin_headers)
    booked = client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T08:30:00Z"))
    assert booked.status_code == 201, booked.text
    # The booking occupies 06:30–10:30Z; 06:30Z would end at 08:30Z, exactly when it starts; 10:30Z
    # starts when it ends but wants its own 120 minutes before. 04:30Z ends where the buffer begins.
    assert _utc_starts(client, link, long_call, "2026-06-03") == ["04:30"]
    refused = client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T06:30:00Z"))
    assert refused.status_code == 409, refused.text


def test_buffers_add_up_between_two_bookings_of_types_with_their_own_buffers(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    # The agent has no buffers; type A wants 30 after, type B 45 before. Between an A and a B there
    # must be 30 + 45 minutes; a B after an A at 10:00–11:00 (Kolkata) can start at 12:15 at the earliest.
    agent_id, link, _ = committed_agent(
        db, timezone="Asia/Kolkata", weekly=EVERY_DAY, min_notice_minutes=0, slot_interval_minutes=15
    )
    a = _type(client, agent_id, admin_headers, name="A", duration_minutes=60, buffer_after_minutes=30)
    b = _type(client, agent_id, admin_headers, name="B", duration_minutes=30, buffer_before_minutes=45)
    assert client.post(f"/api/v1/links/{link}/bookings", json=_form(a, "2026-06-03T04:30:00Z")).status_code == 201
    b_starts = _utc_starts(client, link, b, "2026-06-03")
    # 04:30Z + 60 + 30 = 06:00Z is the end of A's occupied time; B's own 45 before puts its first start at 06:45Z.
    assert b_starts[0] == "06:45"
    refused = client.post(f"/api/v1/links/{link}/bookings", json=_form(b, "2026-06-03T06:30:00Z"))
    assert refused.status_code == 409
    assert client.post(f"/api/v1/links/{link}/bookings", json=_form(b, "2026-06-03T06:45:00Z")).status_code == 201
    # And an A before that B must leave 30 + 45 too: A at 04:30Z is there; nothing else of A fits before 06:45Z.
    a_starts = _utc_starts(client, link, a, "2026-06-03")
    assert not [t for t in a_starts if "04:30" < t < "07:15"], a_starts


def test_changing_a_types_buffers_changes_the_time_its_bookings_occupy_and_the_answer_cache_sees_it(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link = _kolkata_agent(db)
    long_call = _type(client, agent_id, admin_headers)
    assert (
        client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T04:30:00Z")).status_code == 201
    )
    assert _utc_starts(client, link, long_call, "2026-06-03") == ["06:30", "08:30", "10:30"]
    with session_scope(db) as session:
        before = answer_version(session.connection(), link=link, meeting_type_id=long_call)
    patched = client.patch(
        f"{ADMIN}/meeting-types/{long_call}", json={"buffer_after_minutes": 60}, headers=admin_headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["buffer_after_minutes"] == 60
    # The version other processes compare changed too (the change took the agent's booking lock).
    with session_scope(db) as session:
        assert answer_version(session.connection(), link=link, meeting_type_id=long_call) != before
    assert _utc_starts(client, link, long_call, "2026-06-03") == ["08:30", "10:30"]
    back = client.patch(
        f"{ADMIN}/meeting-types/{long_call}", json={"buffer_after_minutes": None}, headers=admin_headers
    )
    assert back.json()["buffer_after_minutes"] is None
    assert _utc_starts(client, link, long_call, "2026-06-03") == ["06:30", "08:30", "10:30"]


def test_a_booking_of_a_type_without_buffers_occupies_only_itself_while_the_slot_keeps_its_own(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    # The offered type's own buffer after (60) keeps its slots clear of a later booking, while a
    # booking of a type without buffers occupies only itself.
    agent_id, link = _kolkata_agent(db)
    plain = _type(client, agent_id, admin_headers, name="Plain")
    padded = _type(client, agent_id, admin_headers, name="Padded", buffer_after_minutes=60)
    assert client.post(f"/api/v1/links/{link}/bookings", json=_form(plain, "2026-06-03T06:30:00Z")).status_code == 201
    # Plain booking 06:30–08:30Z occupies exactly that: Plain at 08:30Z is free, Padded at 04:30Z
    # (ends 06:30Z, +60) is not.
    assert _utc_starts(client, link, plain, "2026-06-03") == ["04:30", "08:30", "10:30"]
    # A buffer may reach past the window's end: only the meeting itself must lie inside it.
    assert _utc_starts(client, link, padded, "2026-06-03") == ["08:30", "10:30"]
    assert client.post(f"/api/v1/links/{link}/bookings", json=_form(padded, "2026-06-03T04:30:00Z")).status_code == 409


def test_rules_per_meeting_type_notice_and_daily_maximum(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    # now = 2026-06-01 06:00Z. The type's own notice of 3 days hides 2026-06-03 for it only; the
    # type's daily maximum of 1 counts its own bookings, the agent's of 3 counts all.
    agent_id, link = _kolkata_agent(db, max_per_day=3)
    strict = _type(client, agent_id, admin_headers, name="Strict", min_notice_minutes=3 * 24 * 60)
    once = _type(client, agent_id, admin_headers, name="Once a day", max_per_day=1)
    other = _type(client, agent_id, admin_headers, name="Other")
    assert _utc_starts(client, link, strict, "2026-06-03") == []
    assert _utc_starts(client, link, strict, "2026-06-05") == ["04:30", "06:30", "08:30", "10:30"]
    too_soon = client.post(f"/api/v1/links/{link}/bookings", json=_form(strict, "2026-06-03T04:30:00Z"))
    assert too_soon.status_code == 422
    assert "notice" in too_soon.json()["detail"]

    assert client.post(f"/api/v1/links/{link}/bookings", json=_form(once, "2026-06-03T04:30:00Z")).status_code == 201
    assert _utc_starts(client, link, once, "2026-06-03") == []
    full = client.post(f"/api/v1/links/{link}/bookings", json=_form(once, "2026-06-03T08:30:00Z"))
    assert full.status_code == 409
    assert full.json()["detail"] == "this meeting type is fully booked on that day"
    # Other types still book that day, until the agent's maximum of 3 (all types) is reached.
    assert client.post(f"/api/v1/links/{link}/bookings", json=_form(other, "2026-06-03T06:30:00Z")).status_code == 201
    assert client.post(f"/api/v1/links/{link}/bookings", json=_form(other, "2026-06-03T08:30:00Z")).status_code == 201
    assert _utc_starts(client, link, other, "2026-06-03") == []
    agent_full = client.post(f"/api/v1/links/{link}/bookings", json=_form(other, "2026-06-03T10:30:00Z"))
    assert agent_full.status_code == 409
    assert agent_full.json()["detail"] == "the agent is fully booked on that day"
    # The next day the type offers again.
    assert _utc_starts(client, link, once, "2026-06-04") == ["04:30", "06:30", "08:30", "10:30"]


def test_a_reschedule_respects_the_other_bookings_buffers_but_not_its_own(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    agent_id, link = _kolkata_agent(db, buffer_after_minutes=120)
    long_call = _type(client, agent_id, admin_headers)
    moving = client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T04:30:00Z")).json()
    other = client.post(f"/api/v1/links/{link}/bookings", json=_form(long_call, "2026-06-03T10:30:00Z"))
    assert other.status_code == 201
    token = moving["manage_url"].rsplit("/", 1)[-1]
    # 08:30Z would end at 10:30Z when the other starts, with 120 minutes wanted after: refused.
    into_buffer = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-03T08:30:00Z"})
    assert into_buffer.status_code == 409, into_buffer.text
    # 06:30Z lies in its own old after-buffer (04:30–08:30Z), which no longer holds once it moves.
    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-03T06:30:00Z"})
    assert moved.status_code == 200, moved.text
    with session_scope(db) as session:
        starts = sorted(
            b.start_at.strftime("%H:%M")
            for b in session.scalars(select(Booking).where(Booking.status == STATUS_CONFIRMED))
        )
    assert starts == ["06:30", "10:30"]


def _booked(client: TestClient, link: str, type_id: int, start: str) -> tuple[int, str]:
    response = client.post(f"/api/v1/links/{link}/bookings", json=_form(type_id, start))
    assert response.status_code == 201, response.text
    return int(response.json()["id"]), response.json()["manage_url"].rsplit("/", 1)[-1]


def test_the_change_cutoff_refuses_cancel_and_reschedule_by_manage_token_and_changes_nothing(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str]
) -> None:
    # now = 2026-06-01 06:00Z; a cut-off of 24 hours: a booking at 2026-06-02 04:30Z is inside it,
    # one at 2026-06-03 04:30Z is not.
    agent_id, link = _kolkata_agent(db, change_cutoff_minutes=24 * 60)
    long_call = _type(client, agent_id, admin_headers)
    soon_id, soon = _booked(client, link, long_call, "2026-06-02T04:30:00Z")
    _, later = _booked(client, link, long_call, "2026-06-03T04:30:00Z")

    cancel = client.post(f"/api/v1/bookings/{soon}/cancel", json={"reason": "busy"})
    assert cancel.status_code == 409, cancel.text
    assert "can no longer be cancelled or rescheduled" in cancel.json()["detail"]
    # Until when, in the invitee's zone: 2026-06-02 04:30Z − 24 h = 2026-06-01 10:00 in Kolkata.
    assert "Monday, 1 June 2026, 10:00 (Asia/Kolkata)" in cancel.json()["detail"]
    move = client.post(f"/api/v1/bookings/{soon}/reschedule", json={"start": "2026-06-04T04:30:00Z"})
    assert move.status_code == 409, move.text
    assert client.get(f"/api/v1/bookings/{soon}").json()["status"] == "confirmed"
    with session_scope(db) as session:
        booking = session.get(Booking, soon_id)
        assert booking is not None
        assert booking.start_at == datetime(2026, 6, 2, 4, 30, tzinfo=UTC)
        assert booking.sequence == 0

    # Outside the cut-off the invitee still changes their booking.
    assert (
        client.post(f"/api/v1/bookings/{later}/reschedule", json={"start": "2026-06-04T04:30:00Z"}).status_code == 200
    )
    assert client.post(f"/api/v1/bookings/{later}/cancel", json={}).status_code == 200

    # The agent's side still cancels inside the cut-off: the admin endpoint.
    admin_cancel = client.post(
        f"{ADMIN}/bookings/{soon_id}/cancel", json={"reason": "agent is ill"}, headers=admin_headers
    )
    assert admin_cancel.status_code == 200, admin_cancel.text
    assert admin_cancel.json()["status"] == "cancelled"
    assert admin_cancel.json()["cancel_reason"] == "agent is ill"
    # Idempotent, and the cancelled booking is what the manage token now reads.
    assert client.post(f"{ADMIN}/bookings/{soon_id}/cancel", headers=admin_headers).json()["status"] == "cancelled"
    assert client.get(f"/api/v1/bookings/{soon}").json()["status"] == "cancelled"


def test_no_cutoff_by_default_changes_stay_possible_until_the_start(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], clock: Any
) -> None:
    agent_id, link = _kolkata_agent(db)
    long_call = _type(client, agent_id, admin_headers)
    _, token = _booked(client, link, long_call, "2026-06-01T08:30:00Z")  # 2½ hours from now
    assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 200


def test_admin_cancel_of_an_unknown_booking_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.post(f"{ADMIN}/bookings/999999/cancel", headers=admin_headers).status_code == 404


def test_the_cutoff_boundary_is_exact(
    client: TestClient, db: sessionmaker[Session], admin_headers: dict[str, str], clock: Any
) -> None:
    agent_id, link = _kolkata_agent(db, change_cutoff_minutes=60)
    long_call = _type(client, agent_id, admin_headers)
    _, token = _booked(client, link, long_call, "2026-06-02T04:30:00Z")
    clock.now = datetime(2026, 6, 2, 3, 29, 59, tzinfo=UTC)  # a second before the cut-off
    assert (
        client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-06-02T06:30:00Z"}).status_code == 200
    )
    clock.now = datetime(2026, 6, 2, 5, 30, tzinfo=UTC)  # exactly 60 minutes before the new start
    assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 409
    clock.now -= timedelta(seconds=1)
    assert client.post(f"/api/v1/bookings/{token}/cancel", json={}).status_code == 200

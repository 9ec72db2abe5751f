"""The availability service against a real SQLite database: busy times, daily maximum, overrides, zones."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from shared.availability.service import available_days, available_slots, default_sources
from shared.db import session_scope
from shared.models import STATUS_CANCELLED, STATUS_CONFIRMED, Agent, Booking, Contact, MeetingType
from tests.factories import make_agent

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday 08:00 in Warsaw; the default notice is 4 hours
WARSAW = ZoneInfo("Europe/Warsaw")
TUESDAY = date(2026, 6, 2)


def warsaw(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=WARSAW)


def add_booking(
    session: Session, agent: Agent, meeting_type: MeetingType, start: datetime, *, status: str = STATUS_CONFIRMED
) -> Booking:
    contact = Contact(email=f"{secrets.token_hex(4)}@example.com", first_name="Ada", last_name="L", company="AE")
    session.add(contact)
    session.flush()
    booking = Booking(
        agent_id=agent.id,
        meeting_type_id=meeting_type.id,
        contact_id=contact.id,
        start_at=start.astimezone(UTC),
        end_at=(start + timedelta(minutes=meeting_type.duration_minutes)).astimezone(UTC),
        invitee_timezone="Europe/Warsaw",
        first_name="Ada",
        last_name="L",
        company_name="AE",
        email=contact.email or "",
        status=status,
        manage_token=secrets.token_urlsafe(24),
    )
    session.add(booking)
    session.flush()
    return booking


def types_of(agent: Agent) -> dict[str, MeetingType]:
    return {m.name: m for m in agent.meeting_types}


def local_starts(
    session: Session, agent: Agent, meeting_type: MeetingType, day: date, zone: ZoneInfo = WARSAW
) -> list[str]:
    slots = available_slots(
        session,
        agent=agent,
        meeting_type=meeting_type,
        day=day,
        display_zone=zone,
        now=NOW,
        sources=default_sources(),
    )
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in slots]


def days(session: Session, agent: Agent, meeting_type: MeetingType, zone: ZoneInfo = WARSAW) -> list[str]:
    found = available_days(
        session,
        agent=agent,
        meeting_type=meeting_type,
        month="2026-06",
        display_zone=zone,
        now=NOW,
        sources=default_sources(),
    )
    return [d.isoformat() for d in found if d <= date(2026, 6, 10)]


def half_hours(first: str, last: str) -> list[str]:
    start = datetime.strptime(first, "%H:%M")
    count = int((datetime.strptime(last, "%H:%M") - start) / timedelta(minutes=30)) + 1
    return [(start + i * timedelta(minutes=30)).strftime("%H:%M") for i in range(count)]


def agent_with(session: Session, **overrides: Any) -> Agent:
    agent = make_agent(session, **overrides)
    session.refresh(agent)
    return agent


def test_a_booking_of_any_meeting_type_blocks_the_slots_it_overlaps(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        agent = agent_with(session)
        other_agent = agent_with(session)
        types = types_of(agent)
        add_booking(session, agent, types["Onboarding"], warsaw(TUESDAY, "10:00"))  # 10:00–10:45
        add_booking(session, other_agent, types_of(other_agent)["Demo"], warsaw(TUESDAY, "14:00"))

        everything = half_hours("09:00", "16:30")
        for name in ("Demo", "Assistance", "Onboarding"):
            offered = local_starts(session, agent, types[name], TUESDAY)
            assert "10:00" not in offered
            assert "10:30" not in offered  # 10:30 overlaps 10:00–10:45 whatever its length
            assert "14:00" in offered  # another agent's booking is not this agent's busy time
        expected = [t for t in everything if t not in {"10:00", "10:30"}]
        assert local_starts(session, agent, types["Demo"], TUESDAY) == expected
        # The 45-minute Onboarding before it must end by 10:00: 09:00 fits, 09:30 does not.
        onboarding = local_starts(session, agent, types["Onboarding"], TUESDAY)
        assert onboarding[:2] == ["09:00", "11:00"]
        assert onboarding[-1] == "16:00"  # 16:30 + 45 min would pass 17:00


def test_cancelled_bookings_block_nothing(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        agent = agent_with(session, max_per_day=1)
        demo = types_of(agent)["Demo"]
        add_booking(session, agent, demo, warsaw(TUESDAY, "10:00"), status=STATUS_CANCELLED)
        assert local_starts(session, agent, demo, TUESDAY) == half_hours("09:00", "16:30")
        assert "2026-06-02" in days(session, agent, demo)


def test_buffers_from_the_agent_settings_apply_around_bookings(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        agent = agent_with(session, buffer_before_minutes=30, buffer_after_minutes=15)
        demo = types_of(agent)["Demo"]
        add_booking(session, agent, demo, warsaw(TUESDAY, "12:00"))  # 12:00–12:30
        offered = local_starts(session, agent, demo, TUESDAY)
        # SPEC §5: the booking occupies 11:30–12:45 (its own 30 before, 15 after), and a slot adds its
        # own buffers, so two meetings are at least 15 + 30 = 45 minutes apart. 11:00 (ends 11:30, +15 =
        # 11:45) and 13:00 (−30 = 12:30) touch the booking's buffers; 10:30 (ends 11:00, +15 = 11:15) and
        # 13:30 (−30 = 13:00) fit. (Until issue 13 the booking's own buffers were ignored: 11:00 and 13:00
        # were offered.)
        assert [t for t in half_hours("10:30", "13:30") if t in offered] == ["10:30", "13:30"]


def test_the_daily_maximum_closes_the_day_once_reached(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        agent = agent_with(session, max_per_day=2)
        types = types_of(agent)
        add_booking(session, agent, types["Demo"], warsaw(TUESDAY, "09:00"))
        assert len(local_starts(session, agent, types["Demo"], TUESDAY)) == 15
        assert "2026-06-02" in days(session, agent, types["Demo"])

        add_booking(session, agent, types["Assistance"], warsaw(TUESDAY, "15:00"))
        for meeting_type in types.values():
            assert local_starts(session, agent, meeting_type, TUESDAY) == []
            assert "2026-06-02" not in days(session, agent, meeting_type)
        assert len(local_starts(session, agent, types["Demo"], date(2026, 6, 3))) == 16  # Wednesday is open


def test_overrides_stored_as_json_take_a_day_off_or_change_its_hours(db: sessionmaker[Session]) -> None:
    with session_scope(db) as session:
        agent = agent_with(
            session,
            overrides=[
                {"date": "2026-06-03", "windows": []},
                {"date": "2026-06-04", "windows": [["13:00", "15:00"]]},
                {"date": "2026-06-06", "windows": [["10:00", "11:00"], ["16:00", "24:00"]]},  # a Saturday
            ],
        )
        demo = types_of(agent)["Demo"]
        assert local_starts(session, agent, demo, date(2026, 6, 3)) == []
        assert local_starts(session, agent, demo, date(2026, 6, 4)) == half_hours("13:00", "14:30")
        assert local_starts(session, agent, demo, date(2026, 6, 6)) == [
            "10:00", "10:30", *half_hours("16:00", "23:30")
        ]  # fmt: skip
        assert days(session, agent, demo) == [
            "2026-06-01", "2026-06-02", "2026-06-04", "2026-06-05", "2026-06-06", "2026-06-08", "2026-06-09",
            "2026-06-10",
        ]  # fmt: skip


def test_a_date_in_the_invitees_zone_maps_to_the_right_agent_slots(db: sessionmaker[Session]) -> None:
    auckland = ZoneInfo("Pacific/Auckland")  # +12:00 in June, ten hours ahead of Warsaw
    with session_scope(db) as session:
        agent = agent_with(session)
        demo = types_of(agent)["Demo"]
        add_booking(session, agent, demo, warsaw(TUESDAY, "15:00"))
        # Wednesday 3 June in Auckland is Tuesday 14:00 to Wednesday 14:00 in Warsaw.
        slots = available_slots(
            session,
            agent=agent,
            meeting_type=demo,
            day=date(2026, 6, 3),
            display_zone=auckland,
            now=NOW,
            sources=default_sources(),
        )
        # Tuesday 14:00–16:30 in Warsaw (15:00 is booked) is 00:00–02:30 on Wednesday in Auckland;
        # Wednesday 09:00–13:30 in Warsaw is 19:00–23:30 there.
        assert [s.start.astimezone(auckland).strftime("%H:%M") for s in slots] == [
            "00:00", "00:30", "01:30", "02:00", "02:30", *half_hours("19:00", "23:30")
        ]  # fmt: skip
        assert [s.start.astimezone(WARSAW).strftime("%a %H:%M") for s in slots][:6] == [
            "Tue 14:00", "Tue 14:30", "Tue 15:30", "Tue 16:00", "Tue 16:30", "Wed 09:00"
        ]  # fmt: skip
        # Friday's Warsaw hours reach past midnight into Saturday in Auckland; Sunday there has nothing.
        assert days(session, agent, demo, auckland) == [
            "2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05", "2026-06-06",
            "2026-06-08", "2026-06-09", "2026-06-10",
        ]  # fmt: skip


def test_busy_times_outside_the_date_still_reach_in_through_buffers_and_meeting_length(
    db: sessionmaker[Session],
) -> None:
    # The agent is open all Tuesday and Wednesday in Warsaw; the invitee asks for Tuesday in UTC,
    # which is Tuesday 02:00 to Wednesday 02:00 in Warsaw. Bookings just outside those bounds:
    # Tuesday 01:15–02:00 and Wednesday 02:20–03:05 (Warsaw).
    utc_zone = ZoneInfo("UTC")
    with session_scope(db) as session:
        agent = agent_with(
            session,
            overrides=[
                {"date": "2026-06-02", "windows": [["00:00", "24:00"]]},
                {"date": "2026-06-03", "windows": [["00:00", "24:00"]]},
            ],
            buffer_before_minutes=30,
            buffer_after_minutes=15,
        )
        types = types_of(agent)
        add_booking(session, agent, types["Onboarding"], warsaw(TUESDAY, "01:15"))
        add_booking(session, agent, types["Onboarding"], warsaw(date(2026, 6, 3), "02:20"))
        demo = local_starts(session, agent, types["Demo"], TUESDAY, utc_zone)
        # Each booking occupies its own buffers too (SPEC §5): Tuesday's 00:45–02:15, Wednesday's
        # 01:50–03:20 (Warsaw). 00:30 UTC (02:30 Warsaw) wants 30 minutes before, back to 02:00: into
        # Tuesday's after-buffer; 01:00 UTC (03:00, −30 = 02:30) is clear.
        assert demo[:2] == ["01:00", "01:30"]
        # Demo at 23:30 UTC ends 02:00 Warsaw, +15 = 02:15: into Wednesday's before-buffer from 01:50;
        # 23:00 UTC ends 01:30, +15 = 01:45: clear.
        assert demo[-1] == "23:00"
        # Onboarding at 23:00 UTC ends 01:45 Warsaw, +15 = 02:00: into it too; 22:30 (+15 = 01:30) fits.
        onboarding = local_starts(session, agent, types["Onboarding"], TUESDAY, utc_zone)
        assert onboarding[-1] == "22:30"
        assert "2026-06-02" in days(session, agent, types["Onboarding"], utc_zone)

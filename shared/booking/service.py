"""Booking, cancelling and rescheduling: the rules of SPEC §5 applied at write time.

No double booking: every write for an agent first takes that agent's row lock
(`UPDATE agents SET booking_lock_version = booking_lock_version + 1`). On PostgreSQL that is a row
lock held to commit; on SQLite the UPDATE takes the database write lock (writers queue on
busy_timeout). Either way the availability re-check and the insert run alone for that agent, so
bookings of different lengths cannot overlap; a unique index on (agent, start) of confirmed bookings
is only the last line of defence.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.agents.errors import LinkNotFound
from shared.agents.locations import check_invitee_phone
from shared.agents.locks import lock_agent as lock_agent  # re-exported: the booking writes' lock
from shared.agents.locks import lock_agents
from shared.agents.service import bookable_type_read, link_and_type_params
from shared.availability.busy import BusyTimeSource
from shared.availability.cutoff import changes_closed, cutoff_reason
from shared.availability.engine import unavailability_reason
from shared.availability.service import AgentAvailability
from shared.booking.effects import EffectTargets, plan_booking_effects, plan_reassignment_effects
from shared.booking.errors import (
    BookingCancelled,
    BookingNotFound,
    ChangeCutoffPassed,
    IdempotencyKeyReused,
    SlotNotOffered,
    SlotUnavailable,
)
from shared.booking.schemas import BookingRequest
from shared.calendars.google.events import event_id_for
from shared.contacts.service import identify_contact, record_event
from shared.locales import resolve_locale
from shared.models import (
    STATUS_CANCELLED,
    STATUS_CONFIRMED,
    Agent,
    Booking,
    BookingHost,
    CalendarConnection,
    Event,
    MeetingType,
    Team,
    WebhookEndpoint,
)
from shared.models.team import MODE_COLLECTIVE
from shared.notifications.webhooks import active_endpoints
from shared.steps.names import BOOKING_CANCELLED, BOOKING_CONFIRMED, BOOKING_RESCHEDULED, STEP_4_SUBMIT
from shared.teams.assignment import round_robin_order
from shared.teams.availability import active_members
from shared.teams.service import get_bookable_team_meeting_type
from shared.timezones import validate_timezone, zone

STEP4_ATTRIBUTES = ("first_name", "last_name", "company_name", "email", "description")


# The statements of every booking are built once, with bound parameters: building them per request
# (and computing their cache keys) was a measurable share of a booking's CPU.
_BOOKING_TARGET = (
    select(
        Agent,
        MeetingType,
        CalendarConnection.status,
        select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True)).exists(),
    )
    .outerjoin(
        MeetingType,
        and_(MeetingType.id == bindparam("meeting_type_id", type_=BigInteger), MeetingType.agent_id == Agent.id),
    )
    .outerjoin(CalendarConnection, CalendarConnection.agent_id == Agent.id)
    .where(Agent.link == bindparam("link"), Agent.active.is_(True))
)


def _check_slot(
    session: Session,
    *,
    agent: Agent,
    meeting_type: MeetingType,
    start: datetime,
    now: datetime,
    sources: Sequence[BusyTimeSource],
    excluding: Booking | None = None,
) -> None:
    """The booking-time re-validation (SPEC §5): the rules of `meeting_type` (its own notice, buffers
    and daily maximum over the agent's), against fresh busy times and the agent's bookings with their
    own buffers, exactly as the slots were offered (shared.availability.engine)."""
    duration = timedelta(minutes=meeting_type.duration_minutes)
    data = AgentAvailability(
        session,
        agent=agent,
        sources=sources,
        start=start,
        end=start + timedelta(microseconds=1),
        fresh=True,
        meeting_type=meeting_type,
        excluding=excluding,
    )
    verdict = unavailability_reason(
        data.rules,
        start=start,
        duration=duration,
        busy=data.busy,
        now=now,
        booked_starts=data.booked_per_day,
        type_booked_starts=data.type_booked_per_day,
    )
    if verdict is None:
        return
    kind, reason = verdict
    raise SlotUnavailable(reason) if kind == "taken" else SlotNotOffered(reason)


def _booking_target(session: Session, *, link: str, meeting_type_id: int) -> tuple[Agent, MeetingType, EffectTargets]:
    """The agent behind the link, the meeting type, and what the booking's effects depend on (the
    agent's calendar connection status, the active webhook endpoints), in one statement where
    get_agent_by_link, get_bookable_meeting_type and the effects' own look-ups took four.

    Same errors in the same order: LinkNotFound, then MeetingTypeNotFound (an id beyond 64 bits as
    get_bookable_meeting_type answers it: shared.agents.service.link_and_type_params).
    """
    row = session.execute(
        _BOOKING_TARGET, link_and_type_params(link=link, meeting_type_id=meeting_type_id)
    ).one_or_none()
    if row is None:
        raise LinkNotFound()
    agent, read, status, webhooks = row
    meeting_type = bookable_type_read(session, agent=agent, meeting_type_id=meeting_type_id, read=read)
    endpoints = active_endpoints(session) if webhooks else []
    return agent, meeting_type, EffectTargets(calendar_status=status, webhook_endpoints=endpoints)


def _earlier_attempt(
    session: Session, *, agent_id: int, idempotency_key: str | None, fingerprint: str
) -> Booking | None:
    """The booking an earlier request with this Idempotency-Key made; refused if the data differs."""
    if idempotency_key is None:
        return None
    earlier = session.scalar(
        select(Booking).where(Booking.agent_id == agent_id, Booking.idempotency_key == idempotency_key)
    )
    if earlier is not None and earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return earlier


def book(
    session: Session,
    *,
    link: str,
    request: BookingRequest,
    idempotency_key: str | None,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> tuple[Booking, bool]:
    """Book a call; returns (booking, created). A repeated Idempotency-Key returns the first booking.

    In the same transaction: the booking, the contact (an anonymous visitor merged by email),
    `calendar_4th_step_submit` with the five submitted fields, `booking_confirmed`, and the outbox jobs
    that tell the agent, the invitee, the calendar and webhooks.
    """
    agent, meeting_type, targets = _booking_target(session, link=link, meeting_type_id=request.meeting_type_id)
    validate_timezone(request.timezone)
    phone = check_invitee_phone(request.phone, required=meeting_type.phone_required)
    if request.start.tzinfo is None:
        raise SlotNotOffered("start must carry a UTC offset")

    fingerprint = request.fingerprint()
    earlier = _earlier_attempt(session, agent_id=agent.id, idempotency_key=idempotency_key, fingerprint=fingerprint)
    if earlier is not None:
        return earlier, False
    # Fast refusal without the lock: a slot already taken by a local booking stays taken, so the
    # losers of a race answer 409 at once instead of queueing behind the agent lock one by one.
    local_only = [source for source in sources if source.local]
    _check_slot(session, agent=agent, meeting_type=meeting_type, start=request.start, now=now, sources=local_only)

    version = lock_agent(session, agent_id=agent.id)
    earlier = _earlier_attempt(session, agent_id=agent.id, idempotency_key=idempotency_key, fingerprint=fingerprint)
    if earlier is not None:
        return earlier, False
    # The local bookings checked above were read after the agent row (and its lock version), and every
    # write that changes what the agent's time holds bumps that version under this lock: when ours is
    # the very next version, nobody wrote in between and that check still holds, so only the other
    # sources (a calendar, read fresh) are left. Otherwise the whole check runs again, under the lock.
    unchanged = version == agent.booking_lock_version + 1
    fresh_sources = [source for source in sources if not source.local] if unchanged else list(sources)
    if fresh_sources:
        _check_slot(
            session, agent=agent, meeting_type=meeting_type, start=request.start, now=now, sources=fresh_sources
        )

    booking, submit = _write_booking(
        session,
        agent_id=agent.id,
        meeting_type=meeting_type,
        request=request,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        now=now,
        phone=phone,
    )
    plan_booking_effects(session, booking=booking, event="created", now=now, targets=targets, step_event=submit)
    return booking, True


def _write_booking(
    session: Session,
    *,
    agent_id: int,
    meeting_type: MeetingType,
    request: BookingRequest,
    idempotency_key: str | None,
    fingerprint: str,
    now: datetime,
    created_at: datetime | None = None,
    phone: str | None = None,
    team_id: int | None = None,
    host_ids: Sequence[int] = (),
) -> tuple[Booking, Event]:
    """The rows of a booking: the contact (an anonymous visitor merged by email), the booking,
    `calendar_4th_step_submit` with the five submitted fields and `booking_confirmed`. Returns the
    booking and its (flushed) step event."""
    contact = identify_contact(
        session,
        email=request.email,
        first_name=request.first_name,
        last_name=request.last_name,
        company=request.company_name,
        visitor_id=request.visitor_id,
        now=now,
    )
    booking = Booking(
        agent_id=agent_id,
        team_id=team_id,
        hosts=[BookingHost(agent_id=host_id) for host_id in host_ids],
        meeting_type_id=meeting_type.id,
        contact_id=contact.id,
        start_at=request.start,
        end_at=request.start + timedelta(minutes=meeting_type.duration_minutes),
        invitee_timezone=request.timezone,
        first_name=request.first_name,
        last_name=request.last_name,
        company_name=request.company_name,
        email=request.email,
        description=request.description,
        status=STATUS_CONFIRMED,
        manage_token=secrets.token_urlsafe(32),
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        session_id=request.session_id,
        visitor_id=request.visitor_id,
        locale=resolve_locale(request.locale),
        phone=phone,
        location_kind=meeting_type.location_kind,
        location_value=meeting_type.location_value,
        # A fixed link is the way in from the start; a Meet link arrives with the calendar event.
        join_url=meeting_type.location_value if meeting_type.location_kind == "link" else None,
    )
    if created_at is not None:
        booking.created_at = booking.updated_at = created_at
    session.add(booking)
    try:
        session.flush()
    except IntegrityError as error:  # only reachable if the agent lock were bypassed
        raise SlotUnavailable("slot no longer available") from error

    submit = _record_booking_event(
        session,
        booking=booking,
        name=STEP_4_SUBMIT,
        attributes={field: getattr(request, field) for field in STEP4_ATTRIBUTES},
        now=now,
        flush=False,
    )
    _record_booking_event(
        session,
        booking=booking,
        name=BOOKING_CONFIRMED,
        attributes={"booking_id": booking.id},
        now=now,
        flush=False,
    )
    session.flush()  # both events in one INSERT; the step event's id goes into its webhook
    return booking, submit


def record_past_booking(
    session: Session,
    *,
    agent: Agent,
    meeting_type: MeetingType,
    request: BookingRequest,
    idempotency_key: str | None,
    booked_at: datetime,
) -> Booking:
    """A booking made at `booked_at` whose call may already be over (the demo's history): the rows
    `book` writes, at that time, but neither checked against today's clock (nothing may be booked
    into the past) nor announced (no outbox jobs: its emails went out long ago)."""
    booking, _ = _write_booking(
        session,
        agent_id=agent.id,
        meeting_type=meeting_type,
        request=request,
        idempotency_key=idempotency_key,
        fingerprint=request.fingerprint(),
        now=booked_at,
        created_at=booked_at,
        phone=request.phone,
    )
    return booking


def get_booking_by_token(session: Session, *, manage_token: str) -> Booking:
    if "\x00" in manage_token:  # no token holds a NUL; PostgreSQL would refuse the query (a 422, not the 404)
        raise BookingNotFound()
    booking = session.scalar(select(Booking).where(Booking.manage_token == manage_token))
    if booking is None:
        raise BookingNotFound()
    return booking


def _record_booking_event(
    session: Session, *, booking: Booking, name: str, attributes: dict[str, Any], now: datetime, flush: bool = True
) -> Event:
    """A timeline event of this booking, with its context (agent, type, session, visitor, chosen time)."""
    return record_event(
        session,
        name=name,
        attributes=attributes,
        contact_id=booking.contact_id,
        agent_id=booking.agent_id,
        team_id=booking.team_id,
        meeting_type_id=booking.meeting_type_id,
        booking_id=booking.id,
        session_id=booking.session_id,
        visitor_id=booking.visitor_id,
        chosen_date=booking.start_at.astimezone(zone(booking.invitee_timezone)).date().isoformat(),
        chosen_start=booking.start_at,
        occurred_at=now,
        flush=flush,
    )


def check_invitee_may_change(booking: Booking, *, now: datetime) -> None:
    """ChangeCutoffPassed within the agent's change cut-off of the start (shared.availability.cutoff)."""
    if changes_closed(booking, now=now):
        raise ChangeCutoffPassed(cutoff_reason(booking))


def cancel(session: Session, *, manage_token: str, reason: str | None, now: datetime) -> Booking:
    """Cancel a booking by its manage token, as the invitee (idempotent: cancelling a cancelled booking
    changes nothing). ChangeCutoffPassed within the change cut-off; the agent's cancel is cancel_booking."""
    booking = get_booking_by_token(session, manage_token=manage_token)
    if booking.status == STATUS_CANCELLED:
        return booking
    check_invitee_may_change(booking, now=now)
    return cancel_booking(session, booking=booking, reason=reason, now=now)


def cancel_booking(session: Session, *, booking: Booking, reason: str | None, now: datetime) -> Booking:
    """Cancel this booking, tell everyone (outbox); cancelling a cancelled booking changes nothing."""
    if booking.status == STATUS_CANCELLED:
        return booking
    lock_agents(session, agent_ids=booking.host_agent_ids)
    _mark_cancelled(session, booking=booking, reason=reason, now=now)
    plan_booking_effects(session, booking=booking, event="cancelled", now=now)
    return booking


def record_past_cancellation(session: Session, *, booking: Booking, reason: str | None, cancelled_at: datetime) -> None:
    """A cancellation made at `cancelled_at` (the demo's history): the rows `cancel_booking` writes,
    without outbox jobs (its emails went out long ago)."""
    if booking.status != STATUS_CANCELLED:
        _mark_cancelled(session, booking=booking, reason=reason, now=cancelled_at)


def _mark_cancelled(session: Session, *, booking: Booking, reason: str | None, now: datetime) -> None:
    booking.status = STATUS_CANCELLED
    booking.cancel_reason = reason
    booking.cancelled_at = now
    booking.sequence += 1
    session.flush()
    _record_booking_event(
        session,
        booking=booking,
        name=BOOKING_CANCELLED,
        attributes={"booking_id": booking.id, "reason": reason or ""},
        now=now,
    )


def reschedule(
    session: Session,
    *,
    manage_token: str,
    start: datetime,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> Booking:
    """Move a confirmed booking to another offered slot; the old slot is freed in the same transaction.

    By manage token, as the invitee: ChangeCutoffPassed within the agent's change cut-off.
    """
    booking = get_booking_by_token(session, manage_token=manage_token)
    if booking.status != STATUS_CONFIRMED:
        raise BookingCancelled()
    check_invitee_may_change(booking, now=now)
    if start.tzinfo is None:
        raise SlotNotOffered("start must carry a UTC offset")
    meeting_type = booking.meeting_type
    former: tuple[int, str] | None = None
    if booking.team_id is not None:
        former = _reassign_for_reschedule(session, booking=booking, start=start, now=now, sources=sources)
    else:
        lock_agent(session, agent_id=booking.agent_id)
        _check_slot(
            session,
            agent=booking.agent,
            meeting_type=meeting_type,
            start=start,
            now=now,
            sources=sources,
            excluding=booking,  # the booking it moves is not in its own way
        )
    previous_start = booking.start_at
    booking.start_at = start
    booking.end_at = start + timedelta(minutes=meeting_type.duration_minutes)
    booking.sequence += 1
    booking.updated_at = now
    try:
        session.flush()
    except IntegrityError as error:
        raise SlotUnavailable("slot no longer available") from error
    _record_booking_event(
        session,
        booking=booking,
        name=BOOKING_RESCHEDULED,
        attributes={"booking_id": booking.id, "from": previous_start.isoformat(), "to": start.isoformat()},
        now=now,
    )
    plan_booking_effects(session, booking=booking, event="rescheduled", now=now)
    if former is not None:
        plan_reassignment_effects(
            session, booking=booking, former_agent_id=former[0], former_event_id=former[1], now=now
        )
    return booking


def _member_verdict(
    session: Session,
    *,
    agent: Agent,
    meeting_type: MeetingType,
    start: datetime,
    now: datetime,
    sources: Sequence[BusyTimeSource],
    excluding: Booking | None = None,
) -> SlotUnavailable | SlotNotOffered | None:
    """_check_slot for one member of a team, as a value: None when the member is free."""
    try:
        _check_slot(
            session, agent=agent, meeting_type=meeting_type, start=start, now=now, sources=sources, excluding=excluding
        )
    except (SlotUnavailable, SlotNotOffered) as refusal:
        return refusal
    return None


def _refusal(refusals: Sequence[SlotUnavailable | SlotNotOffered | None]) -> SlotUnavailable | SlotNotOffered:
    """The answer when no member can take a start: 422 when it is a slot of no one's rules, else 409."""
    taken = [r for r in refusals if isinstance(r, SlotUnavailable)]
    if taken:
        return taken[0]
    offered = [r for r in refusals if r is not None]
    return offered[0] if offered else SlotUnavailable("slot no longer available")


def book_team(
    session: Session,
    *,
    team: Team,
    request: BookingRequest,
    idempotency_key: str | None,
    now: datetime,
    sources: Sequence[BusyTimeSource],
) -> tuple[Booking, bool]:
    """Book a call through a team's link (SPEC §15); returns (booking, created).

    Round robin: the start must be free for at least one member; it goes to the first free member
    in the team's order (shared.teams.assignment). Collective: every member must be free; the
    booking's agent is the lowest id, the others its hosts. Every member is locked, in ascending
    agent id (the lock of agent bookings, one global order: no deadlock with direct bookings or
    other teams), and each is checked fresh (calendar busy times) under the lock. Everything else
    is what an agent booking does, in the same transaction.
    """
    meeting_type = get_bookable_team_meeting_type(session, team=team, meeting_type_id=request.meeting_type_id)
    validate_timezone(request.timezone)
    phone = check_invitee_phone(request.phone, required=meeting_type.phone_required)
    if request.start.tzinfo is None:
        raise SlotNotOffered("start must carry a UTC offset")
    members = active_members(team)
    if not members:
        raise SlotUnavailable("no member of this team takes calls right now")

    fingerprint = request.fingerprint()
    earlier = _earlier_team_attempt(session, team_id=team.id, idempotency_key=idempotency_key, fingerprint=fingerprint)
    if earlier is not None:
        return earlier, False
    collective = team.mode == MODE_COLLECTIVE
    # Fast refusal without the locks, on local bookings only (see book()).
    local_only = [source for source in sources if source.local]
    fast = [
        _member_verdict(
            session, agent=agent, meeting_type=meeting_type, start=request.start, now=now, sources=local_only
        )
        for agent in members
    ]
    if (collective and any(fast)) or (not collective and all(fast)):
        raise _refusal(fast)

    lock_agents(session, agent_ids=[agent.id for agent in members])
    earlier = _earlier_team_attempt(session, team_id=team.id, idempotency_key=idempotency_key, fingerprint=fingerprint)
    if earlier is not None:
        return earlier, False
    if collective:
        verdicts = [
            _member_verdict(
                session, agent=agent, meeting_type=meeting_type, start=request.start, now=now, sources=sources
            )
            for agent in members
        ]
        if any(verdicts):
            raise _refusal(verdicts)
        agent_id, host_ids = members[0].id, [agent.id for agent in members[1:]]
    else:
        refusals: list[SlotUnavailable | SlotNotOffered | None] = []
        chosen: Agent | None = None
        for agent in round_robin_order(session, team_id=team.id, members=members, now=now):
            verdict = _member_verdict(
                session, agent=agent, meeting_type=meeting_type, start=request.start, now=now, sources=sources
            )
            if verdict is None:
                chosen = agent
                break
            refusals.append(verdict)
        if chosen is None:
            raise _refusal(refusals)
        agent_id, host_ids = chosen.id, []

    booking, submit = _write_booking(
        session,
        agent_id=agent_id,
        meeting_type=meeting_type,
        request=request,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        now=now,
        phone=phone,
        team_id=team.id,
        host_ids=host_ids,
    )
    plan_booking_effects(session, booking=booking, event="created", now=now, step_event=submit)
    return booking, True


def _earlier_team_attempt(
    session: Session, *, team_id: int, idempotency_key: str | None, fingerprint: str
) -> Booking | None:
    """The booking an earlier request with this Idempotency-Key made through the team's link."""
    if idempotency_key is None:
        return None
    earlier = session.scalar(
        select(Booking).where(Booking.team_id == team_id, Booking.idempotency_key == idempotency_key)
    )
    if earlier is not None and earlier.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return earlier


def _reassign_for_reschedule(
    session: Session, *, booking: Booking, start: datetime, now: datetime, sources: Sequence[BusyTimeSource]
) -> tuple[int, str] | None:
    """A team booking's new start: a collective one needs every host free (its own time excluded); a
    round-robin one keeps its member when free, else moves to the first free member in the team's
    order. Locks as book_team does. Returns (former agent id, their Google event id) after a move:
    the new member's event gets an id of its own (the former's stays taken in Google)."""
    meeting_type = booking.meeting_type
    team = booking.team
    current = booking.agent
    if team is None or team.deleted_at is not None or team.mode == MODE_COLLECTIVE or booking.hosts:
        hosts = [current, *(host.agent for host in booking.hosts)]
        lock_agents(session, agent_ids=[agent.id for agent in hosts])
        verdicts = [
            _member_verdict(
                session,
                agent=agent,
                meeting_type=meeting_type,
                start=start,
                now=now,
                sources=sources,
                excluding=booking,
            )
            for agent in hosts
        ]
        if any(verdicts):
            raise _refusal(verdicts)
        return None
    members = [agent for agent in active_members(team) if agent.id != current.id]
    lock_agents(session, agent_ids=[current.id, *(agent.id for agent in members)])
    first = _member_verdict(
        session, agent=current, meeting_type=meeting_type, start=start, now=now, sources=sources, excluding=booking
    )
    if first is None:
        return None
    refusals: list[SlotUnavailable | SlotNotOffered | None] = [first]
    for agent in round_robin_order(session, team_id=team.id, members=members, now=now):
        verdict = _member_verdict(
            session, agent=agent, meeting_type=meeting_type, start=start, now=now, sources=sources
        )
        if verdict is None:
            # The call moves to this member: the planned effects tell and write for the booking's agent.
            former = (current.id, booking.provider_event_id or event_id_for(booking))
            booking.agent_id = agent.id
            booking.agent = agent
            booking.provider_event_id = event_id_for(booking, host_agent_id=agent.id)
            return former
        refusals.append(verdict)
    raise _refusal(refusals)

"""Outbox handlers that write bookings into Google Calendar, exactly once.

Each job converges the Google event to the booking's state *when the job runs* (not when it was
planned), so jobs may run late, twice or out of order: the event id is derived from the booking, an
insert answered 409 means an earlier attempt already created it (it is then brought up to date), a
delete answered 404/410 means it is already gone. Nothing is held open in the database while Google
is being called.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from shared.calendars.google.client import GoogleCalendarClient
from shared.calendars.google.errors import (
    EventAlreadyExists,
    EventGone,
    GoogleAccessRevoked,
    GoogleCallError,
    GoogleTemporarilyUnavailable,
)
from shared.calendars.google.events import event_content, event_for_insert, event_id_for
from shared.calendars.google.planning import DELETE_JOB, UPSERT_JOB
from shared.calendars.google.service import (
    get_connection,
    mark_needs_reconnect,
    save_refreshed_tokens,
    usable_tokens,
)
from shared.calendars.google.tokens import StoredTokens
from shared.db import session_scope
from shared.models import STATUS_CANCELLED, Booking, OutboxJob
from shared.notifications.planning import plan_join_link_followups
from shared.outbox.contract import JobContext, JobHandler, ParkJob, PermanentFailure, RetryLater

logger = logging.getLogger("meetings.google")

MEET_PENDING_RETRY_SECONDS = 5.0
WAITING_FOR_RECONNECT = "waiting for the agent to reconnect Google Calendar"


@dataclass(frozen=True)
class _Work:
    booking_id: int
    agent_id: int
    cancelled: bool
    calendar_id: str
    event_id: str
    insert_body: dict[str, Any]
    content: dict[str, Any]
    tokens: StoredTokens
    scopes: list[str]
    wants_meet: bool = False
    host: bool = False  # the event of another member of a collective booking (BookingHost)


def _load(context: JobContext, job: OutboxJob) -> _Work | None:
    """Read what the job needs in a short transaction. None: the booking no longer exists."""
    park_reason: str | None = None
    work: _Work | None = None
    with session_scope(context.sessionmaker) as session:
        booking = session.get(Booking, int(job.payload["booking_id"]))
        if booking is None:
            return None
        # Another member of a collective booking (SPEC §15): their calendar, their own event id; the
        # Meet link is the one the booking's own agent's event creates.
        raw_host = job.payload.get("agent_id")
        host = next((h for h in booking.hosts if h.agent_id == raw_host), None) if isinstance(raw_host, int) else None
        if isinstance(raw_host, int) and host is None:
            return None
        # The member a round-robin team booking moved away from: their event, in their calendar.
        former = job.payload.get("former_agent_id")
        former_event = job.payload.get("event_id")
        agent_id = booking.agent_id if host is None else host.agent_id
        if isinstance(former, int) and isinstance(former_event, str):
            agent_id = former
        connection = get_connection(session, agent_id=agent_id)
        tokens = (
            usable_tokens(session, connection=connection, settings=context.settings, now=context.clock())
            if connection is not None
            else None
        )
        if connection is None or tokens is None:
            detail = connection.last_error if connection is not None and connection.last_error else None
            park_reason = WAITING_FOR_RECONNECT + (f" ({detail})" if detail else "")
        else:
            if isinstance(former, int) and isinstance(former_event, str):
                event_id = former_event
            elif host is None:
                event_id = booking.provider_event_id or event_id_for(booking)
            else:
                event_id = host.provider_event_id or event_id_for(booking, host_agent_id=host.agent_id)
            work = _Work(
                booking_id=booking.id,
                agent_id=agent_id,
                host=host is not None or isinstance(former, int),
                cancelled=booking.status == STATUS_CANCELLED,
                calendar_id=connection.destination_calendar_id or "primary",
                event_id=event_id,
                insert_body=event_for_insert(booking, event_id),
                content=event_content(booking),
                tokens=tokens,
                scopes=list(connection.scopes or []),
                wants_meet=host is None and booking.location_kind == "google_meet" and booking.join_url is None,
            )
    # Raised after the transaction committed (a needs_reconnect found while loading is kept).
    if park_reason is not None:
        raise ParkJob(park_reason)
    return work


def _client(context: JobContext, work: _Work) -> GoogleCalendarClient:
    return GoogleCalendarClient(context.settings, work.tokens.to_credentials(context.settings, work.scopes))


def _ensure_deleted(client: GoogleCalendarClient, work: _Work) -> None:
    # 410: deleted before (an earlier attempt); 404: never created. Either way: done.
    with contextlib.suppress(EventGone):
        client.delete_event(work.calendar_id, work.event_id)


def _ensure_current(client: GoogleCalendarClient, work: _Work, *, moved: bool) -> dict[str, Any] | None:
    """Bring the event up to date; returns it as Google has it (None: deleted by the agent)."""
    if moved:
        try:
            # The patch leaves the conference alone: a reschedule keeps the same Meet link.
            return client.patch_event(work.calendar_id, work.event_id, work.content)
        except EventGone:
            pass  # not created yet (its insert is still queued): insert it with the new times
    try:
        return client.insert_event(work.calendar_id, work.insert_body)
    except EventAlreadyExists:
        # Created by an earlier attempt whose completion was never recorded: success. Patch it so a
        # reschedule that happened meanwhile is reflected (and read the Meet link it was given).
        try:
            return client.patch_event(work.calendar_id, work.event_id, work.content)
        except EventGone:
            # Deleted in Google Calendar by the agent; its id can never be reused. Respect that.
            logger.info("booking %s: its Google event was deleted in the calendar; not recreated", work.booking_id)
            return None


def _finish(
    context: JobContext,
    work: _Work,
    client: GoogleCalendarClient,
    *,
    written: bool,
    event: dict[str, Any] | None = None,
) -> bool:
    """Save refreshed tokens, the event id and the Meet link (`hangoutLink` of the written `event`).
    True when the booking was cancelled meanwhile."""
    with session_scope(context.sessionmaker) as session:
        connection = get_connection(session, agent_id=work.agent_id)
        if connection is not None and connection.encrypted_tokens:
            save_refreshed_tokens(
                session,
                connection=connection,
                before=work.tokens,
                credentials=client.credentials,
                settings=context.settings,
            )
        booking = session.get(Booking, work.booking_id)
        if booking is None:
            return False
        if work.host:
            host = next((h for h in booking.hosts if h.agent_id == work.agent_id), None)
            if written and host is not None and host.provider_event_id != work.event_id:
                host.provider_event_id = work.event_id
            return written and booking.status == STATUS_CANCELLED
        if written and booking.provider_event_id != work.event_id:
            booking.provider_event_id = work.event_id
        link = (event or {}).get("hangoutLink")
        if written and booking.location_kind == "google_meet" and isinstance(link, str) and link != booking.join_url:
            first = booking.join_url is None
            booking.join_url = link
            session.flush()
            if first:  # in this same transaction: the link, its email and its webhook, or none of them
                plan_join_link_followups(session, booking=booking, now=context.clock())
        return written and booking.status == STATUS_CANCELLED


def _signal_for(context: JobContext, work: _Work, failure: GoogleCallError) -> Exception:
    if isinstance(failure, GoogleAccessRevoked):
        with session_scope(context.sessionmaker) as session:
            connection = get_connection(session, agent_id=work.agent_id)
            if connection is not None:
                mark_needs_reconnect(session, connection=connection, reason=str(failure), now=context.clock())
        return ParkJob(f"{WAITING_FOR_RECONNECT} ({failure})")
    if isinstance(failure, GoogleTemporarilyUnavailable):
        return RetryLater(str(failure), delay_seconds=failure.retry_after_seconds)
    return PermanentFailure(str(failure))


def _run(context: JobContext, job: OutboxJob, *, delete: bool) -> None:
    work = _load(context, job)
    if work is None:
        return
    client = _client(context, work)
    remove = delete or work.cancelled
    event: dict[str, Any] | None = None
    try:
        if remove:
            _ensure_deleted(client, work)
        else:
            event = _ensure_current(client, work, moved=job.payload.get("event") == "rescheduled")
    except GoogleCallError as failure:
        _finish(context, work, client, written=False)
        raise _signal_for(context, work, failure) from None
    if _finish(context, work, client, written=not remove, event=event):
        # Cancelled while we were inserting; the delete job may already have found nothing to delete.
        try:
            _ensure_deleted(client, work)
        except GoogleCallError as failure:
            raise _signal_for(context, work, failure) from None
        return
    if not remove and work.wants_meet and event is not None and not event.get("hangoutLink"):
        # Google may still be creating the conference (createRequest status "pending"): ask again
        # soon; the retry's insert answers 409 and the patch returns the event with its link.
        raise RetryLater("the Google Meet link is still being created", delay_seconds=MEET_PENDING_RETRY_SECONDS)


def upsert_booking_event(context: JobContext, job: OutboxJob) -> None:
    """calendar.google.upsert: the booking's event exists in the destination calendar, up to date."""
    _run(context, job, delete=False)


def delete_booking_event(context: JobContext, job: OutboxJob) -> None:
    """calendar.google.delete: the cancelled booking's event is gone (410/404 count as done)."""
    _run(context, job, delete=True)


def google_job_handlers() -> dict[str, JobHandler]:
    return {UPSERT_JOB: upsert_booking_event, DELETE_JOB: delete_booking_event}

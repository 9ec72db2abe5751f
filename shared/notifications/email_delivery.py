"""Outbox handlers that send emails (the email channel), each at most once per job (so once per planned event).

The protocol, per job:
1. In its own committed transaction, the EmailMessage row keyed by the job (outbox_job_id is unique)
   is written with the rendered content and a Message-ID chosen now. If the row already exists
   with `sent_at` set, the email went out before: nothing to do.
2. The stored row (not a fresh rendering) is sent over SMTP.
3. `sent_at` is committed.

A crash or lost lease after step 3 (job not yet marked done) repeats nothing. The remaining window
is between the SMTP server's 250 for DATA and the commit of step 3 (milliseconds; e.g. the worker
is killed exactly then, or the database is unreachable right then): the retry sends the same
message again, with the same Message-ID, so mail clients that collapse duplicates by Message-ID
show one. SMTP offers nothing to close that window from the client side.

Without SMTP_URL the row is the delivery: transport "stored", `sent_at` stays empty (it never left
the database), and the dashboard's outbox view shows it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.errors import InvalidInput
from shared.models import STATUS_CANCELLED, Agent, Booking, EmailMessage, OutboxJob
from shared.models.outbox import JOB_DONE, JOB_FAILED
from shared.notifications.emails import (
    RenderedEmail,
    render_agent_notice,
    render_booking_email,
    render_joining_details,
    render_reminder_email,
)
from shared.notifications.planning import confirmation_dedupe_key
from shared.notifications.smtp import SmtpConfig, build_mime, mail_domain, parse_smtp_url, send_mime
from shared.outbox.contract import JobContext, PermanentFailure, RetryLater

TRANSPORT_SMTP = "smtp"
TRANSPORT_STORED = "stored"
BOOKING_EVENTS = ("created", "cancelled", "rescheduled")

Composer = Callable[[Session], RenderedEmail | None]


def smtp_config(context: JobContext) -> SmtpConfig | None:
    if not context.settings.smtp_url:
        return None
    try:
        return parse_smtp_url(context.settings.smtp_url)
    except InvalidInput as error:
        raise PermanentFailure(f"SMTP_URL is invalid: {error.detail}") from error


def deliver_email(context: JobContext, job: OutboxJob, compose: Composer, *, booking_id: int | None) -> None:
    """Write-then-send for one job; `compose` renders the email (None: nothing to send any more)."""
    config = smtp_config(context)
    try:
        with session_scope(context.sessionmaker) as session:
            row = session.scalar(select(EmailMessage).where(EmailMessage.outbox_job_id == job.id))
            if row is not None and (row.sent_at is not None or row.transport == TRANSPORT_STORED):
                return
            rendered = compose(session)
            if row is None:
                if rendered is None:
                    return
                row = EmailMessage(
                    outbox_job_id=job.id,
                    booking_id=booking_id,
                    to_address=rendered.to_address,
                    subject=rendered.subject,
                    text_body=rendered.text_body,
                    html_body=rendered.html_body,
                    ics=rendered.ics,
                    message_id=_new_message_id(context, job),
                    transport=TRANSPORT_SMTP if config else TRANSPORT_STORED,
                    created_at=context.clock(),
                )
                session.add(row)
                session.flush()
            elif config is None:  # SMTP_URL was removed since the first attempt: keep it stored
                row.transport = TRANSPORT_STORED
            to_name = rendered.to_name if rendered else ""
            reply_to = rendered.reply_to if rendered else None
            mime = build_mime(row, mail_from=context.settings.mail_from, to_name=to_name, reply_to=reply_to)
            row_id = row.id
    except IntegrityError as error:  # another worker wrote the row first (lease overlap)
        raise RetryLater("email row written concurrently by another worker") from error
    if config is None:
        return
    send_mime(config, mime)
    with session_scope(context.sessionmaker) as session:
        sent = session.get(EmailMessage, row_id)
        if sent is not None:
            sent.sent_at = context.clock()


def _new_message_id(context: JobContext, job: OutboxJob) -> str:
    return f"<meetings.job{job.id}.{secrets.token_hex(8)}@{mail_domain(context.settings.mail_from)}>"


def handle_booking_email(context: JobContext, job: OutboxJob) -> None:
    """Kind "email.booking": payload {booking_id, event, recipient: agent|invitee, sequence}."""
    payload: dict[str, Any] = job.payload
    event = payload.get("event")
    recipient = payload.get("recipient")
    booking_id = payload.get("booking_id")
    if event not in BOOKING_EVENTS or recipient not in ("agent", "invitee") or not isinstance(booking_id, int):
        raise PermanentFailure(f"malformed email.booking payload: {payload!r}")

    def compose(session: Session) -> RenderedEmail | None:
        booking = session.get(Booking, booking_id)
        if booking is None:
            return None
        # A confirmation that would arrive after the booking was cancelled would only mislead;
        # the cancellation email that follows tells the whole story.
        if booking.status == STATUS_CANCELLED and event != "cancelled":
            return None
        # A collective booking's other member (SPEC §15): the agent's email, addressed to them; a
        # round-robin booking's former member (moved on reschedule): its cancellation.
        host_id = payload.get("agent_id")
        host = next((h.agent for h in booking.hosts if h.agent_id == host_id), None)
        if isinstance(host_id, int) and host is None:
            return None
        former_id = payload.get("former_agent_id")
        if isinstance(former_id, int):
            host = session.get(Agent, former_id)
            if host is None:
                return None
        return render_booking_email(
            booking, event=event, recipient=recipient, settings=context.settings, now=context.clock(), agent=host
        )

    deliver_email(context, job, compose, booking_id=booking_id)


def handle_reminder_email(context: JobContext, job: OutboxJob) -> None:
    """Kind "email.reminder": payload {booking_id, minutes, sequence} (shared.notifications.reminders).

    Nothing is sent for a booking cancelled or moved since the reminder was planned (the move planned
    its own), nor once the call has started (a worker that was down for hours sends no stale ones).
    """
    payload: dict[str, Any] = job.payload
    booking_id = payload.get("booking_id")
    sequence = payload.get("sequence")
    if not isinstance(booking_id, int) or not isinstance(sequence, int) or not isinstance(payload.get("minutes"), int):
        raise PermanentFailure(f"malformed email.reminder payload: {payload!r}")

    def compose(session: Session) -> RenderedEmail | None:
        booking = session.get(Booking, booking_id)
        if booking is None or booking.status == STATUS_CANCELLED or booking.sequence != sequence:
            return None
        if context.clock() >= booking.start_at:
            return None
        return render_reminder_email(booking, settings=context.settings)

    deliver_email(context, job, compose, booking_id=booking_id)


# How long the joining-details job waits, each time, for the confirmation to be decided.
CONFIRMATION_PENDING_RETRY_SECONDS = 15.0


def handle_joining_details(context: JobContext, job: OutboxJob) -> None:
    """Kind "email.joining_details": payload {booking_id}. The Meet link to the invitee, sent only
    when their confirmation went out without it (it waited its minute), so each invitee reads the
    link exactly once in whichever email came first. While the confirmation is still queued the job
    waits: a confirmation rendered from now on carries the link, one being rendered right now may not.
    """
    booking_id = job.payload.get("booking_id")
    if not isinstance(booking_id, int):
        raise PermanentFailure(f"malformed email.joining_details payload: {job.payload!r}")

    def compose(session: Session) -> RenderedEmail | None:
        booking = session.get(Booking, booking_id)
        if booking is None or booking.status == STATUS_CANCELLED or not booking.join_url:
            return None
        confirmation = session.scalar(
            select(OutboxJob).where(OutboxJob.dedupe_key == confirmation_dedupe_key(booking_id))
        )
        sent = (
            session.scalar(select(EmailMessage).where(EmailMessage.outbox_job_id == confirmation.id))
            if confirmation is not None
            else None
        )
        if sent is not None:
            return (
                None
                if booking.join_url in sent.text_body
                else render_joining_details(booking, settings=context.settings)
            )
        if confirmation is not None and confirmation.status not in (JOB_DONE, JOB_FAILED):
            raise RetryLater("the confirmation is not decided yet", delay_seconds=CONFIRMATION_PENDING_RETRY_SECONDS)
        # Done without an email (the booking was cancelled then) or never planned: nothing to follow up.
        return None

    deliver_email(context, job, compose, booking_id=booking_id)


def handle_agent_notice(context: JobContext, job: OutboxJob) -> None:
    """Kind "email.agent_notice": payload {agent_id, template, context: {...}}."""
    payload: dict[str, Any] = job.payload
    agent_id = payload.get("agent_id")
    template = payload.get("template")
    values = payload.get("context") or {}
    if not isinstance(agent_id, int) or not isinstance(template, str) or not isinstance(values, dict):
        raise PermanentFailure(f"malformed email.agent_notice payload: {payload!r}")

    def compose(session: Session) -> RenderedEmail | None:
        agent = session.get(Agent, agent_id)
        if agent is None:
            return None
        try:
            return render_agent_notice(agent, template=template, context=values, settings=context.settings)
        except InvalidInput as error:
            raise PermanentFailure(error.detail) from error

    deliver_email(context, job, compose, booking_id=None)

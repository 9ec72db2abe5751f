"""Outbox jobs and stored emails as the actor may see them; retry.

A manager sees every job and email. An agent sees the jobs planned for them (their bookings'
emails and calendar events, notices to them) and the emails of their bookings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from shared.accounts.errors import EmailNotFound
from shared.accounts.permissions import Actor, require_can_manage_agent, visible_agent_ids
from shared.models import Booking, EmailMessage, OutboxJob
from shared.outbox import worker
from shared.outbox.errors import JobNotFound

DEFAULT_LIMIT = 200

# Job families by the prefix of their kind ("email.booking", "calendar.insert", "webhook.deliver").
FAMILIES = {"email": "Emails", "calendar": "Calendar", "webhook": "Webhooks"}


def family_of(kind: str) -> str:
    return kind.split(".", 1)[0]


def _visible_jobs(actor: Actor) -> ColumnElement[bool] | None:
    allowed = visible_agent_ids(actor)
    return None if allowed is None else OutboxJob.agent_id.in_(allowed)


def list_jobs(
    session: Session,
    *,
    actor: Actor,
    statuses: Sequence[str] = (),
    families: Sequence[str] = (),
    limit: int = DEFAULT_LIMIT,
) -> list[OutboxJob]:
    """Newest first, optionally only these statuses and kind families ("email", "calendar", ...)."""
    query = select(OutboxJob)
    visible = _visible_jobs(actor)
    if visible is not None:
        query = query.where(visible)
    if statuses:
        query = query.where(OutboxJob.status.in_(list(statuses)))
    if families:
        query = query.where(or_(*(OutboxJob.kind.startswith(f"{family}.") for family in families)))
    return list(session.scalars(query.order_by(OutboxJob.id.desc()).limit(limit)))


def job_counts(session: Session, *, actor: Actor) -> dict[str, int]:
    """How many visible jobs are in each status."""
    query = select(OutboxJob.status, func.count()).group_by(OutboxJob.status)
    visible = _visible_jobs(actor)
    if visible is not None:
        query = query.where(visible)
    return {status: count for status, count in session.execute(query).all()}


def retry_job(session: Session, *, actor: Actor, job_id: int, now: datetime) -> OutboxJob:
    """Queue a failed, waiting or pending job to run again with fresh attempts."""
    job = session.get(OutboxJob, job_id)
    if job is None:
        raise JobNotFound()
    if visible_agent_ids(actor) is not None:
        # Jobs without an agent (e.g. webhooks of no agent) are a manager's business.
        if job.agent_id is None:
            raise JobNotFound()
        require_can_manage_agent(actor, job.agent_id)
    return worker.retry_job(session, job_id=job_id, now=now)


def _visible_emails(actor: Actor) -> ColumnElement[bool] | None:
    allowed = visible_agent_ids(actor)
    if allowed is None:
        return None
    of_bookings = select(Booking.id).where(Booking.agent_id.in_(allowed))
    of_jobs = select(OutboxJob.id).where(OutboxJob.agent_id.in_(allowed))
    return or_(EmailMessage.booking_id.in_(of_bookings), EmailMessage.outbox_job_id.in_(of_jobs))


def list_emails(session: Session, *, actor: Actor, limit: int = DEFAULT_LIMIT) -> list[EmailMessage]:
    """Emails the product produced (sent over SMTP or stored), newest first."""
    query = select(EmailMessage)
    visible = _visible_emails(actor)
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query.order_by(EmailMessage.id.desc()).limit(limit)))


def get_email(session: Session, *, actor: Actor, email_id: int) -> EmailMessage:
    """One email with its content; another agent's email looks missing."""
    query = select(EmailMessage).where(EmailMessage.id == email_id)
    visible = _visible_emails(actor)
    if visible is not None:
        query = query.where(visible)
    email = session.scalar(query)
    if email is None:
        raise EmailNotFound()
    return email

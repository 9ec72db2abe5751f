"""Export and erasure of one contact's personal data, and the retention sweep.

Where a contact's personal data lives, and what erasure does to it (one transaction):
- contacts: email, first/last name, company → NULL (the row stays, so bookings keep counting);
- visitors: the rows (anonymous visitor ids) are deleted;
- bookings: names, company, email, description, cancel reason, visitor id, request fingerprint
  replaced; future confirmed bookings are first cancelled through the booking service (agent email,
  calendar delete, webhooks, as any cancellation);
- events (the contact's, and those of its visitor ids): attributes → {}, visitor id → NULL; names,
  times and session ids stay, so the funnel counts the same;
- email_messages of its bookings or to its address: address, subject and bodies replaced;
- outbox_jobs (webhook snapshots, delivered or not) and webhook_deliveries: personal values
  stripped from payloads and errors; emails not yet sent to the contact are cancelled (there is no
  address left to send them to);
- contact_erasures: one row saying when and by whom, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from shared.booking.service import cancel_booking
from shared.errors import NotFound
from shared.models import (
    STATUS_CONFIRMED,
    Agent,
    Booking,
    Contact,
    ContactErasure,
    EmailMessage,
    Event,
    MeetingType,
    OutboxJob,
    Visitor,
    WebhookDelivery,
)
from shared.models.erasure import ERASED_BY_RETENTION, ERASED_ON_REQUEST
from shared.models.outbox import JOB_DONE
from shared.notifications.planning import EMAIL_JOB
from shared.notifications.webhooks import WEBHOOK_JOB

ERASED = "[erased]"
ERASURE_CANCEL_REASON = "contact erased"
# Keys of payload snapshots (booking_webhook_data, event_webhook_data) that hold personal data.
PERSONAL_KEYS: dict[str, Any] = {
    "first_name": ERASED,
    "last_name": ERASED,
    "company_name": ERASED,
    "company": ERASED,
    "email": ERASED,
    "phone": ERASED,
    "description": "",
    "cancel_reason": None,
    "visitor_id": None,
    "attributes": {},
}


class ContactErased(NotFound):
    def __init__(self) -> None:
        super().__init__("contact not found (erased)")


def _live_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact not found")
    if session.scalar(select(ContactErasure.id).where(ContactErasure.contact_id == contact_id)) is not None:
        raise ContactErased()
    return contact


def is_erased(session: Session, *, contact_id: int) -> bool:
    return session.scalar(select(ContactErasure.id).where(ContactErasure.contact_id == contact_id)) is not None


@dataclass(frozen=True)
class _Footprint:
    """Where one contact's data is: its bookings, visitor ids, events and the values to look for."""

    booking_ids: list[int]
    visitor_ids: list[str]
    event_filter: Any
    terms: list[str]


def _footprint(session: Session, contact: Contact) -> _Footprint:
    bookings = list(session.scalars(select(Booking).where(Booking.contact_id == contact.id)))
    visitor_ids = set(session.scalars(select(Visitor.id).where(Visitor.contact_id == contact.id)))
    visitor_ids |= {b.visitor_id for b in bookings if b.visitor_id}
    visitor_ids |= {
        v for v in session.scalars(select(Event.visitor_id).where(Event.contact_id == contact.id).distinct()) if v
    }
    event_filter = Event.contact_id == contact.id
    if visitor_ids:
        event_filter = or_(event_filter, and_(Event.contact_id.is_(None), Event.visitor_id.in_(visitor_ids)))
    values: set[str] = {v for v in (contact.email, contact.first_name, contact.last_name, contact.company) if v}
    for booking in bookings:
        values |= {
            v for v in (booking.email, booking.first_name, booking.last_name, booking.company_name, booking.phone) if v
        }
        values |= {v for v in (booking.description, booking.cancel_reason) if v and len(v) >= 8}
    values |= visitor_ids
    # Longest first: an email is replaced whole before a name inside it.
    terms = sorted((v.strip() for v in values if len(v.strip()) >= 2), key=len, reverse=True)
    return _Footprint(
        booking_ids=[b.id for b in bookings], visitor_ids=sorted(visitor_ids), event_filter=event_filter, terms=terms
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _scrub_text(value: str, terms: Iterable[str]) -> str:
    lowered = value.lower()
    for term in terms:
        index = lowered.find(term.lower())
        while index >= 0:
            value = value[:index] + ERASED + value[index + len(term) :]
            lowered = value.lower()
            index = lowered.find(term.lower(), index + len(ERASED))
    return value


def _scrub(value: Any, terms: list[str]) -> Any:
    """A JSON value with the personal keys replaced and every personal value cut out of its strings."""
    if isinstance(value, dict):
        return {k: (PERSONAL_KEYS[k] if k in PERSONAL_KEYS else _scrub(v, terms)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, terms) for item in value]
    if isinstance(value, str):
        return _scrub_text(value, terms)
    return value


def _jobs_carrying(session: Session, footprint: _Footprint) -> list[OutboxJob]:
    """Outbox jobs of the contact's bookings, or whose payload holds one of its values (any kind)."""
    text = cast(OutboxJob.payload, String)
    needles: set[str] = set()
    for term in footprint.terms:
        needles.add(term)
        needles.add(json.dumps(term)[1:-1])  # as JSON spells it (non-ASCII escaped)
    conditions = [text.contains(n, autoescape=True) for n in needles]
    if footprint.booking_ids:
        conditions.append(OutboxJob.booking_id.in_(footprint.booking_ids))
    if not conditions:
        return []
    return list(session.scalars(select(OutboxJob).where(or_(*conditions))))


# --- export ------------------------------------------------------------------------------------


def export_contact(session: Session, *, contact_id: int, agent_ids: list[int] | None = None) -> dict[str, Any]:
    """Everything stored about one contact, as JSON values: profile, visitor ids, timeline events
    with attributes, bookings, the emails sent to them, and the webhook deliveries that carried
    their data. `agent_ids` (an agent's scope) keeps only what concerns those agents."""
    contact = _live_contact(session, contact_id)
    footprint = _footprint(session, contact)

    def mine(agent_id: int | None) -> bool:
        return agent_ids is None or agent_id in agent_ids

    bookings = [
        b
        for b in session.scalars(select(Booking).where(Booking.contact_id == contact.id).order_by(Booking.start_at))
        if mine(b.agent_id)
    ]
    events = session.execute(
        select(Event, Agent.name, MeetingType.name)
        .outerjoin(Agent, Agent.id == Event.agent_id)
        .outerjoin(MeetingType, MeetingType.id == Event.meeting_type_id)
        .where(footprint.event_filter)
        .order_by(Event.occurred_at, Event.id)
    )
    booking_ids = [b.id for b in bookings]
    email_filter = EmailMessage.to_address == contact.email if contact.email else None
    if email_filter is not None and booking_ids:
        email_filter = or_(email_filter, and_(EmailMessage.booking_id.in_(booking_ids)))
    elif booking_ids:
        email_filter = EmailMessage.booking_id.in_(booking_ids)
    emails = (
        list(session.scalars(select(EmailMessage).where(email_filter).order_by(EmailMessage.id)))
        if email_filter is not None
        else []
    )
    jobs = [j for j in _jobs_carrying(session, footprint) if j.kind == WEBHOOK_JOB and mine(j.agent_id)]
    attempts: dict[int, list[WebhookDelivery]] = {}
    if jobs:
        for delivery in session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.outbox_job_id.in_([j.id for j in jobs]))
        ):
            attempts.setdefault(delivery.outbox_job_id or 0, []).append(delivery)
    return {
        "contact": {
            "id": contact.id,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "company": contact.company,
            "created_at": _iso(contact.created_at),
            "updated_at": _iso(contact.updated_at),
        },
        "visitor_ids": footprint.visitor_ids,
        "events": [
            {
                "id": e.id,
                "name": e.name,
                "attributes": e.attributes or {},
                "occurred_at": _iso(e.occurred_at),
                "agent": agent_name,
                "meeting_type": type_name,
                "booking_id": e.booking_id,
                "session_id": e.session_id,
                "visitor_id": e.visitor_id,
                "chosen_date": e.chosen_date,
                "chosen_start": _iso(e.chosen_start),
            }
            for e, agent_name, type_name in events
            if mine(e.agent_id)
        ],
        "bookings": [
            {
                "id": b.id,
                "agent": b.agent.name,
                "meeting_type": b.meeting_type.name,
                "start": _iso(b.start_at),
                "end": _iso(b.end_at),
                "timezone": b.invitee_timezone,
                "status": b.status,
                "first_name": b.first_name,
                "last_name": b.last_name,
                "company_name": b.company_name,
                "email": b.email,
                "phone": b.phone,
                "description": b.description,
                "cancel_reason": b.cancel_reason,
                "created_at": _iso(b.created_at),
                "cancelled_at": _iso(b.cancelled_at),
            }
            for b in bookings
        ],
        "emails": [
            {
                "to": m.to_address,
                "subject": m.subject,
                "date": _iso(m.sent_at or m.created_at),
                "body": m.text_body,
                "booking_id": m.booking_id,
            }
            for m in emails
            if m.to_address == contact.email
        ],
        "webhook_deliveries": [
            {
                "event_id": j.payload.get("event_id"),
                "type": j.payload.get("type"),
                "status": j.status,
                "payload": j.payload,
                "attempts": [
                    {"at": _iso(d.created_at), "status_code": d.status_code, "error": d.error}
                    for d in attempts.get(j.id, [])
                ],
            }
            for j in jobs
        ],
    }


# --- erasure -----------------------------------------------------------------------------------


def erase_contact(
    session: Session, *, contact_id: int, now: datetime, erased_by: str, reason: str = ERASED_ON_REQUEST
) -> ContactErasure:
    """Erase the contact's personal data (see the module docstring), after cancelling their future
    bookings the usual way; record the erasure. Bookings, events and funnel counts stay."""
    contact = _live_contact(session, contact_id)
    cancelled = 0
    for booking in session.scalars(
        select(Booking)
        .where(Booking.contact_id == contact.id, Booking.status == STATUS_CONFIRMED, Booking.start_at > now)
        .order_by(Booking.start_at)
    ).all():
        cancel_booking(session, booking=booking, reason=ERASURE_CANCEL_REASON, now=now)
        cancelled += 1
    session.flush()
    footprint = _footprint(session, contact)
    terms = footprint.terms

    for job in _jobs_carrying(session, footprint):
        if job.kind == EMAIL_JOB and job.payload.get("recipient") == "invitee" and job.status != JOB_DONE:
            job.status = JOB_DONE
            job.done_at = now
            job.last_error = "cancelled: the recipient's data was erased"
        job.payload = _scrub(dict(job.payload), terms)
        if job.last_error:
            job.last_error = _scrub_text(job.last_error, terms)
        for delivery in session.scalars(select(WebhookDelivery).where(WebhookDelivery.outbox_job_id == job.id)):
            if delivery.error:
                delivery.error = _scrub_text(delivery.error, terms)

    if footprint.booking_ids or contact.email:
        email_filter: list[ColumnElement[bool]] = []
        if footprint.booking_ids:
            email_filter.append(EmailMessage.booking_id.in_(footprint.booking_ids))
        if contact.email:
            email_filter.append(func.lower(EmailMessage.to_address) == contact.email.lower())
        for message in session.scalars(select(EmailMessage).where(or_(*email_filter))):
            if contact.email and message.to_address.lower() == contact.email.lower():
                message.to_address = ERASED
            message.subject = _scrub_text(message.subject, terms)
            message.text_body = ERASED
            message.html_body = None
            message.ics = None

    if footprint.booking_ids:
        session.execute(
            update(Booking)
            .where(Booking.id.in_(footprint.booking_ids))
            .values(
                first_name=ERASED,
                last_name=ERASED,
                company_name="",
                email=ERASED,
                phone=None,
                description="",
                visitor_id=None,
                request_fingerprint=None,
                updated_at=now,
            )
        )
        session.execute(
            update(Booking)
            .where(Booking.id.in_(footprint.booking_ids), Booking.cancel_reason.is_not(None))
            .values(cancel_reason=ERASURE_CANCEL_REASON)
        )
    session.execute(
        update(Event).where(footprint.event_filter).values(attributes={}, visitor_id=None),
        execution_options={"synchronize_session": False},
    )
    session.execute(delete(Visitor).where(Visitor.contact_id == contact.id))
    contact.email = None
    contact.first_name = None
    contact.last_name = None
    contact.company = None
    contact.updated_at = now
    record = ContactErasure(
        contact_id=contact.id, erased_at=now, erased_by=erased_by, reason=reason, bookings_cancelled=cancelled
    )
    session.add(record)
    session.flush()
    session.expire_all()
    return record


# --- retention ---------------------------------------------------------------------------------


def contacts_past_retention(session: Session, *, now: datetime, days: int, limit: int = 1000) -> list[int]:
    """Contacts (not yet erased) with no booking and no event for `days` days, oldest first."""
    cutoff = now - timedelta(days=days)
    recent_booking = exists().where(
        Booking.contact_id == Contact.id, or_(Booking.start_at >= cutoff, Booking.created_at >= cutoff)
    )
    recent_event = exists().where(Event.contact_id == Contact.id, Event.occurred_at >= cutoff)
    erased = exists().where(ContactErasure.contact_id == Contact.id)
    return list(
        session.scalars(
            select(Contact.id)
            .where(Contact.created_at < cutoff, ~recent_booking, ~recent_event, ~erased)
            .order_by(Contact.id)
            .limit(limit)
        )
    )


def erase_past_retention(session: Session, *, now: datetime, days: int) -> int:
    """Erase every contact past the retention period; how many were erased."""
    erased = 0
    for contact_id in contacts_past_retention(session, now=now, days=days):
        erase_contact(session, contact_id=contact_id, now=now, erased_by="retention", reason=ERASED_BY_RETENTION)
        erased += 1
    return erased

"""Admin API: a contact's data export and erasure (SPEC §16), through the scoped privacy services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response, status

from shared.accounts.scoped import privacy as scoped_privacy
from widget_api.deps import AdminDep, NowDep, SessionDep, require_admin

router = APIRouter(
    prefix="/api/v1/admin/contacts",
    tags=["admin: contacts"],
    dependencies=[Depends(require_admin)],
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such contact (or already erased)"},
    403: {"description": "an agent's token and a contact who did not book with that agent"},
}


@router.get("/{contact_id}/export", responses=NOT_FOUND)
def export_contact(contact_id: int, actor: AdminDep, session: SessionDep) -> dict[str, Any]:
    """Everything stored about one contact as JSON: profile, merged visitor ids, timeline events with
    attributes, bookings with times and descriptions, the emails sent to them, and the webhook
    deliveries that carried their data. An agent's token: contacts who booked them, their part only."""
    return scoped_privacy.export_contact(session, actor=actor, contact_id=contact_id)


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def erase_contact(contact_id: int, actor: AdminDep, session: SessionDep, now: NowDep) -> Response:
    """Erase the contact's personal data. Future bookings are cancelled first (agent email, calendar
    delete, webhooks); bookings, events and funnel counts stay, emptied of personal data; the erasure
    is recorded (when, by whom). Managers erase anyone, an agent's token only who booked them."""
    scoped_privacy.erase_contact(session, actor=actor, contact_id=contact_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

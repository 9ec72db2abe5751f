"""The hosted manage page at /manage/{manage_token}: see, cancel, reschedule a booking.

Reached from the confirmation email, often on a phone: plain HTML forms (no script needed),
Post/Redirect/Get after every change, times in the zone the invitee booked in. The manage token in
the URL is the only credential (≥ 256 bits), so the page is never cached, indexed or leaked in a
Referer, and no other origin may frame it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from shared.availability.cutoff import change_deadline, changes_closed
from shared.availability.service import available_days, available_slots
from shared.booking import service as booking_service
from shared.booking.errors import BookingNotFound, ChangeCutoffPassed
from shared.db import transaction
from shared.errors import Conflict, InvalidInput
from shared.models import STATUS_CANCELLED, Booking
from shared.notifications.emails import location_rows
from shared.notifications.i18n import format_day, format_deadline, format_moment, format_when, translator
from shared.timezones import zone
from widget_api.deps import BusySourcesDep, NowDep, SessionDep, SettingsDep

router = APIRouter(tags=["pages"])

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "manage"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_FORM_BYTES = 16_384
MAX_REASON = 2000
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
# What a change just did, shown after its redirect: catalog keys (shared.notifications.i18n).
NOTICES = {"cancelled": "manage.notice.cancelled", "rescheduled": "manage.notice.rescheduled"}


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _templates().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


async def form_fields(request: Request) -> dict[str, str]:
    """An urlencoded form body (the only kind these pages post), read without python-multipart."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("form too large")
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


def booking_by_manage_token(manage_token: str, session: SessionDep) -> Booking | None:
    """The booking the token in the URL opens, or None: the page then answers its own 404 page."""
    try:
        return booking_service.get_booking_by_token(session, manage_token=manage_token)
    except BookingNotFound:
        return None


ManagedBookingDep = Annotated[Booking | None, Depends(booking_by_manage_token)]


def _month_shift(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _parse_day(value: str | None) -> date | None:
    if value is None or not DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _render_booking(
    request: Request,
    *,
    booking: Booking,
    session: SessionDep,
    settings: SettingsDep,
    now: datetime,
    sources: BusySourcesDep,
    month: str | None = None,
    day: date | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page in the booking's language (`locale`) and the invitee's zone; `notice` and `error`
    arrive already in that language (see `_t`)."""
    invitee_zone = zone(booking.invitee_timezone)
    locale = booking.locale
    agent = booking.agent
    is_past = booking.end_at <= now
    # Within the agent's change cut-off the page says so instead of offering the buttons.
    closed = booking.status != STATUS_CANCELLED and not is_past and changes_closed(booking, now=now)
    can_change = booking.status != STATUS_CANCELLED and not is_past and not closed
    deadline = change_deadline(booking)
    this_month = now.astimezone(invitee_zone).strftime("%Y-%m")
    last_month = (now + timedelta(days=agent.availability.horizon_days)).astimezone(invitee_zone).strftime("%Y-%m")
    if day is not None:
        month = day.strftime("%Y-%m")
    if month is None or not MONTH.fullmatch(month) or not this_month <= month <= last_month:
        month = this_month

    days: list[date] = []
    slots: list[dict[str, str]] = []
    if can_change:
        days = available_days(
            session,
            agent=agent,
            meeting_type=booking.meeting_type,
            month=month,
            display_zone=invitee_zone,
            now=now,
            sources=sources,
        )
        if day is not None:
            slots = [
                {
                    "value": slot.start.astimezone(UTC).isoformat(),
                    "label": slot.start.astimezone(invitee_zone).strftime("%H:%M"),  # 24-hour in every language
                }
                for slot in available_slots(
                    session,
                    agent=agent,
                    meeting_type=booking.meeting_type,
                    day=day,
                    display_zone=invitee_zone,
                    now=now,
                    sources=sources,
                )
            ]
    page_url = str(request.url_for("manage_page", manage_token=booking.manage_token).path)
    return _page(
        "booking.html",
        status_code=status_code,
        booking=booking,
        agent=agent,
        meeting_type=booking.meeting_type,
        t=translator(locale),
        lang=locale,
        when=format_when(booking.start_at, booking.end_at, booking.invitee_timezone, locale),
        location_rows=location_rows(booking, recipient="invitee", t=translator(locale)),
        cancelled=booking.status == STATUS_CANCELLED,
        cancelled_at=(
            format_moment(booking.cancelled_at.astimezone(invitee_zone), "dd MMMM y, HH:mm", locale)
            if booking.cancelled_at
            else None
        ),
        is_past=is_past,
        can_change=can_change,
        changes_closed=closed,
        changes_until=(
            format_deadline(deadline, booking.invitee_timezone, booking.locale) if deadline is not None else None
        ),
        month=month,
        month_label=format_day(date.fromisoformat(f"{month}-01"), "LLLL y", locale),
        previous_month=_month_shift(month, -1) if month > this_month else None,
        next_month=_month_shift(month, 1) if month < last_month else None,
        days=[{"iso": d.isoformat(), "label": format_day(d, "EEE dd MMM", locale), "selected": d == day} for d in days],
        day_label=format_day(day, "EEEE, dd MMMM y", locale) if day else None,
        selected_day=day.isoformat() if day else None,
        slots=slots,
        page_url=page_url,
        ics_url=settings.ics_url(booking.manage_token),
        booking_url=settings.booking_url(agent.link) if agent.active else None,
        notice=notice,
        error=error,
        max_reason=MAX_REASON,
    )


def _not_found() -> HTMLResponse:
    # No booking, so no language to speak: English.
    return _page("not_found.html", status_code=404, t=translator("en"), lang="en")


def _t(booking: Booking, key: str, **values: Any) -> str:
    """A message of the page in the booking's language."""
    return translator(booking.locale)(key, **values)


@router.get("/manage/{manage_token}", response_class=HTMLResponse, name="manage_page")
def manage_page(
    request: Request,
    booking: ManagedBookingDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    sources: BusySourcesDep,
    month: Annotated[str | None, Query(description="YYYY-MM of the reschedule calendar")] = None,
    date: Annotated[str | None, Query(description="YYYY-MM-DD whose free times to list")] = None,
    done: Annotated[str | None, Query(description="what just happened: cancelled | rescheduled")] = None,
) -> HTMLResponse:
    """The booking in the invitee's zone, with cancel and reschedule forms while it can change."""
    if booking is None:
        return _not_found()
    return _render_booking(
        request,
        booking=booking,
        session=session,
        settings=settings,
        now=now,
        sources=sources,
        month=month,
        day=_parse_day(date),
        notice=_t(booking, key) if (key := NOTICES.get(done or "")) else None,
    )


@router.post("/manage/{manage_token}/cancel", response_class=HTMLResponse, response_model=None)
def manage_cancel(
    request: Request,
    manage_token: str,
    form: FormDep,
    booking: ManagedBookingDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    sources: BusySourcesDep,
) -> HTMLResponse | RedirectResponse:
    """Cancel with an optional reason, then show the cancelled booking."""
    if booking is None:
        return _not_found()
    reason = form.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        return _render_booking(
            request,
            booking=booking,
            session=session,
            settings=settings,
            now=now,
            sources=sources,
            error=_t(booking, "manage.error.reason_too_long", max=MAX_REASON),
            status_code=422,
        )
    try:
        with transaction(session):  # committed before the redirect goes out: see _redirect
            booking_service.cancel(session, manage_token=manage_token, reason=reason or None, now=now)
    except Conflict as error:  # the change cut-off has passed: nothing was changed
        return _render_booking(
            request,
            booking=booking_service.get_booking_by_token(session, manage_token=manage_token),
            session=session,
            settings=settings,
            now=now,
            sources=sources,
            error=_t(booking, "manage.error.not_cancelled", reason=error.detail),
            status_code=409,
        )
    return _redirect(request, manage_token, "cancelled")


@router.post("/manage/{manage_token}/reschedule", response_class=HTMLResponse, response_model=None)
def manage_reschedule(
    request: Request,
    manage_token: str,
    form: FormDep,
    booking: ManagedBookingDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    sources: BusySourcesDep,
) -> HTMLResponse | RedirectResponse:
    """Move the booking to the chosen free time; the old time is freed in the same transaction."""
    if booking is None:
        return _not_found()
    day = _parse_day(form.get("date"))
    try:
        start = datetime.fromisoformat(form.get("start", ""))
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        return _render_booking(
            request,
            booking=booking,
            session=session,
            settings=settings,
            now=now,
            sources=sources,
            day=day,
            error=_t(booking, "manage.error.pick_time"),
            status_code=422,
        )
    if booking.status == STATUS_CANCELLED:
        return _render_booking(
            request,
            booking=booking,
            session=session,
            settings=settings,
            now=now,
            sources=sources,
            error=_t(booking, "manage.error.cancelled"),
            status_code=409,
        )
    try:
        with transaction(session):  # committed before the redirect goes out: see _redirect
            booking_service.reschedule(session, manage_token=manage_token, start=start, now=now, sources=sources)
    except (Conflict, InvalidInput) as error:
        # Rolled back, and nothing was changed (the service raises before writing); show the fresh free times.
        booking = booking_service.get_booking_by_token(session, manage_token=manage_token)
        return _render_booking(
            request,
            booking=booking,
            session=session,
            settings=settings,
            now=now,
            sources=sources,
            day=day,
            error=(
                _t(booking, "manage.error.not_moved", reason=error.detail)
                if isinstance(error, ChangeCutoffPassed)
                else _t(booking, "manage.error.not_bookable", reason=error.detail)
            ),
            status_code=409 if isinstance(error, Conflict) else 422,
        )
    session.commit()  # see _redirect
    return _redirect(request, manage_token, "rescheduled")


def _redirect(request: Request, manage_token: str, done: str) -> RedirectResponse:
    # Each change ends its transaction (`transaction(session)`, as the writing widget routes do) before
    # this goes out: the session dependency would only commit after the response is sent, and the
    # browser's GET of the redirect could then still read the old state.
    url = request.url_for("manage_page", manage_token=manage_token).include_query_params(done=done)
    return RedirectResponse(str(url.path) + "?" + str(url.query), status_code=303, headers=PAGE_HEADERS)

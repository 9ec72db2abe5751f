"""The names of the events on a visitor's timeline (SPEC §4): the four funnel steps and the booking events.

A home of their own, imported by everything that records, counts or forwards them (contacts,
funnel, webhooks, booking, the widget API), so none of those packages depends on another for them.
"""

from __future__ import annotations

STEP_EVENTS: tuple[str, ...] = (
    "calendar_1st_step",
    "calendar_2nd_step",
    "calendar_3rd_step",
    "calendar_4th_step_submit",
)
STEP_4_SUBMIT = STEP_EVENTS[3]
BOOKING_CONFIRMED = "booking_confirmed"
BOOKING_CANCELLED = "booking_cancelled"
BOOKING_RESCHEDULED = "booking_rescheduled"
BOOKING_EVENTS: tuple[str, ...] = (BOOKING_CONFIRMED, BOOKING_CANCELLED, BOOKING_RESCHEDULED)
# Steps 1–3 are the only events a browser may post; step 4 and booking events are written by the server.
CLIENT_STEP_EVENTS: tuple[str, ...] = STEP_EVENTS[:3]

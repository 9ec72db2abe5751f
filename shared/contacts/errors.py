from shared.errors import InvalidInput

STEP_EVENTS: tuple[str, ...] = (
    "calendar_1st_step",
    "calendar_2nd_step",
    "calendar_3rd_step",
    "calendar_4th_step_submit",
)
BOOKING_EVENTS: tuple[str, ...] = ("booking_confirmed", "booking_cancelled", "booking_rescheduled")
# Steps 1–3 are the only events a browser may post; step 4 and booking events are written by the server.
CLIENT_STEP_EVENTS: tuple[str, ...] = STEP_EVENTS[:3]


class UnknownEvent(InvalidInput):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown event name {name!r}; expected one of {', '.join(CLIENT_STEP_EVENTS)}")

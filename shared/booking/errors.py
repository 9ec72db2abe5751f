from shared.errors import Conflict, InvalidInput, NotFound


class SlotUnavailable(Conflict):
    """The start was a slot, but it is taken now (another booking, calendar busy time, full day)."""


class SlotNotOffered(InvalidInput):
    """The start is not a slot under the rules: past, inside notice, beyond horizon, off-grid."""


class BookingNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("booking not found")


class BookingCancelled(Conflict):
    def __init__(self) -> None:
        super().__init__("this booking is cancelled")


class IdempotencyKeyReused(Conflict):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used for a different booking request")


class ChangeCutoffPassed(Conflict):
    """Cancel or reschedule by manage token within the agent's change cut-off (SPEC §5)."""

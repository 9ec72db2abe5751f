from shared.errors import Forbidden, InvalidInput, NotFound


class InvalidCredentials(InvalidInput):
    """Unknown email, wrong password or inactive account: one message for all, so emails cannot be probed."""

    def __init__(self) -> None:
        super().__init__("wrong email or password")


class WeakPassword(InvalidInput):
    """A new password that does not meet the minimum rules."""


class NotYourAgent(Forbidden):
    def __init__(self) -> None:
        super().__init__("agents may only see and edit their own calendar, settings, meeting types and bookings")


class ManagersOnly(Forbidden):
    def __init__(self, what: str) -> None:
        super().__init__(f"only managers may {what}")


class EmailNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("email not found")

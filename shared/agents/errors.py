from shared.errors import Conflict, InvalidInput, NotFound


class LinkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("booking link not found")


class TeamNotFound(NotFound):
    """An unknown or deleted team (SPEC §15). Here beside the link errors, so the packages below
    shared.teams (the funnel's filter) raise the same error."""

    def __init__(self) -> None:
        super().__init__("team not found")


class AgentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("agent not found")


class MeetingTypeNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("meeting type not found")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("an agent with this email already exists")


class CalendarNotConnected(NotFound):
    def __init__(self) -> None:
        super().__init__("no calendar connected")


class InvalidAgent(InvalidInput):
    """An agent field that cannot be stored (no name, not an email address, an unknown role)."""


class InvalidAvailability(InvalidInput):
    """An availability setting that cannot be stored; the message names the field and the rule."""


class InvalidMeetingType(InvalidInput):
    """A meeting type field out of range; the message names the field and the rule."""

from shared.errors import Conflict, NotFound


class LinkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("booking link not found")


class AgentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("agent not found")


class MeetingTypeNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("meeting type not found")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("an agent with this email already exists")

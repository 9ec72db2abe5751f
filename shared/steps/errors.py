from shared.errors import InvalidInput
from shared.steps.names import CLIENT_STEP_EVENTS


class UnknownEvent(InvalidInput):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown event name {name!r}; expected one of {', '.join(CLIENT_STEP_EVENTS)}")

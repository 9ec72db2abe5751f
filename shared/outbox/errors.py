from shared.errors import Conflict, NotFound


class JobNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("outbox job not found")


class JobNotRetryable(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"a {status} job cannot be retried; only failed, waiting or pending jobs can")

from __future__ import annotations

from shared.errors import MeetingsError


class RateLimited(MeetingsError):
    """The client used up its allowance for this kind of request; it may retry after `retry_after` s."""

    def __init__(self, *, bucket: str, limit: int, window_seconds: int, retry_after: int) -> None:
        per = "minute" if window_seconds == 60 else f"{window_seconds} s"
        super().__init__(
            f"too many requests: at most {limit} {BUCKET_NOUNS.get(bucket, 'requests')} per {per} "
            f"from one address; retry in {retry_after} s"
        )
        self.bucket = bucket
        self.limit = limit
        self.retry_after = retry_after


class InvalidTrustedProxy(MeetingsError):
    """MEETINGS_TRUSTED_PROXY holds something that is not an address or network."""


BUCKET_NOUNS = {"bookings": "booking changes", "events": "step events", "reads": "reads"}

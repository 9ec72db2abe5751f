"""Rate-limit policy (which bucket, which client, how many) and the counter every process shares.

Counting: one row per (bucket:client, one-minute window) in `rate_limit_counters`, bumped with an
atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING count`, SQLite ≥ 3.35 and PostgreSQL) in
its own short transaction, so every API process on the same database sees the same numbers. A
request is allowed while the sliding-window estimate

    previous_window_count × (1 − elapsed/window) + current_window_count

stays within the limit, which smooths the double burst a plain fixed window allows at its edge.
Denied requests count too: a client that keeps hammering stays blocked. Once a key is blocked, this
process remembers until when and answers without touching the database (the in-process fast path),
so a flood costs one upsert per process and minute, not one per request.

Reads are batched (the loose bucket; bookings and events stay strict, one upsert per request). A
read is admitted in process, without a database round trip, while this process's view of the key —
the count it last read back from the database (at most `flush_interval` seconds ago, in the same
window) plus its own not-yet-written hits, plus this one — stays within `local_fraction` (half) of
the limit. Otherwise, and for the first read of a key in a window, the read goes to the database as
before, adding the pending hits and this one in one upsert and deciding from the returned count.
Pending hits of idle keys are written at most `flush_interval` seconds late (on the next read that
goes to the database, and at shutdown). The trade-off: hits another process holds unwritten are
invisible here, so a burst spread over several processes can exceed the read limit by at most what
each other process admitted in its last flush interval, and never by more than half the limit per
process; within one process the count is exact. Counters still live in the shared database, so
limits stay shared across processes (PostgreSQL).
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, select

from shared.db import upsert_insert
from shared.models import RateLimitHit
from shared.settings import Settings
from widget_api.ratelimit.errors import InvalidTrustedProxy, RateLimited

BOOKINGS = "bookings"
EVENTS = "events"
READS = "reads"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
COUNTERS = cast(Table, RateLimitHit.__table__)

_WRITE = frozenset({"POST"})
_READ = frozenset({"GET", "HEAD"})
# Deny by default: only these public paths are limited; the admin API has its own bearer token.
_RULES: tuple[tuple[frozenset[str], re.Pattern[str], str], ...] = (
    (_WRITE, re.compile(r"/api/v1/links/[^/]+/bookings"), BOOKINGS),
    (_WRITE, re.compile(r"/api/v1/bookings/[^/]+/(?:cancel|reschedule)"), BOOKINGS),
    (_WRITE, re.compile(r"/manage/[^/]+/(?:cancel|reschedule)"), BOOKINGS),
    (_WRITE, re.compile(r"/api/v1/events"), EVENTS),
    (_READ, re.compile(r"/api/v1/(?:links|bookings)/.+"), READS),
    (_READ, re.compile(r"/(?:b|manage)/[^/]+"), READS),
)


def limits_enabled(settings: Settings) -> bool:
    """MEETINGS_RATE_LIMIT_ENABLED when set; otherwise on everywhere except the test environment."""
    if settings.rate_limit_enabled is not None:
        return settings.rate_limit_enabled
    return settings.environment != "test"


def bucket_for(method: str, path: str) -> str | None:
    """Which allowance a request draws on, or None when it is not rate-limited."""
    for methods, pattern, bucket in _RULES:
        if method in methods and pattern.fullmatch(path):
            return bucket
    return None


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.1, 10.1.0.0/16, ::1` -> networks; anything else is refused at start-up."""
    networks: list[IPNetwork] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise InvalidTrustedProxy(f"MEETINGS_TRUSTED_PROXY: {item!r} is not an address or network") from None
    return tuple(networks)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The address a request is counted against.

    The direct peer, unless the peer is a trusted proxy: then the nearest X-Forwarded-For hop (read
    right to left) that is not itself a trusted proxy. Hops left of that were written by the client
    and are never believed.
    """
    address = peer or "unknown"
    if not trusted or not _is_trusted(address, trusted):
        return address
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _ip(hop) is None:
            return address  # garbage from the client: count against the last proxy we believe
        address = hop
        if not _is_trusted(hop, trusted):
            return hop
    return address


def client_key(address: str) -> str:
    """IPv4 per address; IPv6 per /64, the block one subscriber usually holds."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip) if ip is not None else address[:100]


def window_start(now: datetime, window_seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=UTC)


def estimated_count(*, previous: int, current: int, elapsed: float, window_seconds: int) -> float:
    return previous * (1 - elapsed / window_seconds) + current


def retry_after_seconds(*, previous: int, current: int, elapsed: float, window_seconds: int, limit: int) -> int:
    """Whole seconds until one more request would be allowed, if nobody else sends any."""
    window = float(window_seconds)
    waits: list[float] = []
    # Later in this window, once the previous window's weight has faded enough.
    room = limit - current - 1
    if room >= 0 and previous > 0:
        waits.append(window * (1 - room / previous) - elapsed)
    # In the next window, where this window's count becomes the fading "previous".
    fade = 0.0 if current <= limit - 1 else window * (1 - (limit - 1) / current)
    waits.append(window - elapsed + fade)
    # The epsilon absorbs float noise: 60 × (1 − 44/48) must round to 5 s, not 6.
    return max(1, math.ceil(min(waits) - 1e-9))


def count_hit(connection: Connection, *, key: str, window: datetime, hits: int = 1) -> int:
    """Add `hits` (one) to the (key, window) counter atomically and return the new count."""
    statement = (
        upsert_insert(connection, COUNTERS)
        .values(key=key, window_start=window, count=hits)
        .on_conflict_do_update(
            index_elements=[COUNTERS.c.key, COUNTERS.c.window_start], set_={"count": COUNTERS.c.count + hits}
        )
        .returning(COUNTERS.c.count)
    )
    return int(connection.execute(statement).scalar_one())


def window_count(connection: Connection, *, key: str, window: datetime) -> int:
    found = connection.execute(
        select(COUNTERS.c.count).where(COUNTERS.c.key == key, COUNTERS.c.window_start == window)
    ).scalar_one_or_none()
    return int(found or 0)


def prune_counters(connection: Connection, *, older_than: datetime) -> int:
    """Delete windows that can no longer matter; returns how many rows went."""
    return connection.execute(delete(COUNTERS).where(COUNTERS.c.window_start < older_than)).rowcount


@dataclass(frozen=True)
class RateLimitPolicy:
    limits: Mapping[str, int]
    trusted_proxies: tuple[IPNetwork, ...] = ()
    window_seconds: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimitPolicy:
        return cls(
            limits={
                BOOKINGS: settings.rate_limit_bookings_per_minute,
                EVENTS: settings.rate_limit_events_per_minute,
                READS: settings.rate_limit_reads_per_minute,
            },
            trusted_proxies=parse_networks(settings.trusted_proxy),
        )

    def limit_for(self, bucket: str) -> int:
        return self.limits.get(bucket, 0)


@dataclass
class _Synced:
    """What the database said about one key when this process last wrote its hits."""

    window: datetime
    current: int
    previous: int
    at: float  # time.monotonic()


@dataclass
class RateLimiter:
    """Counts hits in the database; raises RateLimited when a client is over its allowance."""

    engine: Engine
    policy: RateLimitPolicy
    prune_interval: timedelta = timedelta(minutes=1)
    retention: timedelta = timedelta(hours=1)
    max_remembered_blocks: int = 10_000
    # Batched reads (module docstring): the longest a pending hit waits, and the share of the limit
    # this process may admit on its own view before it asks the database again.
    batched_buckets: frozenset[str] = frozenset({READS})
    flush_interval: float = 1.0
    local_fraction: float = 0.5
    monotonic: Callable[[], float] = time.monotonic
    _blocked_until: dict[str, datetime] = field(default_factory=dict, init=False, repr=False)
    _next_prune: datetime | None = field(default=None, init=False, repr=False)
    _prune_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _synced: dict[str, _Synced] = field(default_factory=dict, init=False, repr=False)
    _pending: dict[tuple[str, datetime], int] = field(default_factory=dict, init=False, repr=False)
    # Hits of a key on their way to the database in another thread: part of this process's view.
    _in_flight: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _next_flush: float = field(default=0.0, init=False, repr=False)

    def _check_block(self, *, key: str, bucket: str, limit: int, now: datetime) -> None:
        blocked_until = self._blocked_until.get(key)
        if blocked_until is not None:
            if now < blocked_until:
                wait = max(1, math.ceil((blocked_until - now).total_seconds()))
                raise RateLimited(
                    bucket=bucket, limit=limit, window_seconds=self.policy.window_seconds, retry_after=wait
                )
            self._blocked_until.pop(key, None)

    def admit_locally(self, *, bucket: str, client: str, now: datetime) -> bool:
        """True when this hit is admitted without the database (counted as pending); False when the
        caller must call `hit` (which may block on I/O). Raises RateLimited for a remembered block.
        Never touches the database, so it is safe on the event loop."""
        limit = self.policy.limit_for(bucket)
        if limit <= 0:
            return True
        key = f"{bucket}:{client}"
        self._check_block(key=key, bucket=bucket, limit=limit, now=now)
        if bucket not in self.batched_buckets:
            return False
        window_seconds = self.policy.window_seconds
        start = window_start(now, window_seconds)
        clock = self.monotonic()
        with self._lock:
            if self._pending and clock >= self._next_flush:
                return False  # someone's hits are due in the database: this hit takes them there
            synced = self._synced.get(key)
            if synced is None or synced.window != start or clock - synced.at >= self.flush_interval:
                return False
            pending = self._pending.get((key, start), 0)
            elapsed = (now - start).total_seconds()
            estimate = estimated_count(
                previous=synced.previous,
                current=synced.current + pending + self._in_flight.get(key, 0) + 1,
                elapsed=elapsed,
                window_seconds=window_seconds,
            )
            if estimate > limit * self.local_fraction + 1e-9:
                return False
            if not self._pending:
                self._next_flush = clock + self.flush_interval
            self._pending[(key, start)] = pending + 1
            return True

    def hit(self, *, bucket: str, client: str, now: datetime) -> None:
        limit = self.policy.limit_for(bucket)
        if limit <= 0:
            return
        window_seconds = self.policy.window_seconds
        key = f"{bucket}:{client}"
        self._check_block(key=key, bucket=bucket, limit=limit, now=now)
        start = window_start(now, window_seconds)
        batched = bucket in self.batched_buckets
        others: dict[tuple[str, datetime], int] = {}
        own = 0
        if batched:
            with self._lock:
                own = self._pending.pop((key, start), 0)
                if self._pending and self.monotonic() >= self._next_flush:
                    others, self._pending = self._pending, {}
                self._take_off({**others, (key, start): own + 1})
        try:
            with self.engine.begin() as connection:
                current = count_hit(connection, key=key, window=start, hits=own + 1)
                previous = window_count(connection, key=key, window=start - timedelta(seconds=window_seconds))
                written = {k: count_hit(connection, key=k[0], window=k[1], hits=n) for k, n in others.items()}
        except BaseException:
            if batched:
                self._restore_pending(others, landed={**others, (key, start): own + 1})
                self._restore_pending({(key, start): own})
            raise
        if batched:
            self._record_sync(
                key=key,
                window=start,
                current=current,
                previous=previous,
                written=written,
                landed={**others, (key, start): own + 1},
            )
        self._prune_if_due(now)
        elapsed = (now - start).total_seconds()
        estimate = estimated_count(previous=previous, current=current, elapsed=elapsed, window_seconds=window_seconds)
        if estimate <= limit + 1e-9:  # float noise must not refuse a client that waited as told
            return
        wait = retry_after_seconds(
            previous=previous, current=current, elapsed=elapsed, window_seconds=window_seconds, limit=limit
        )
        self._remember_block(key, now + timedelta(seconds=wait))
        raise RateLimited(bucket=bucket, limit=limit, window_seconds=window_seconds, retry_after=wait)

    def flush(self) -> None:
        """Write every pending batched hit now (shutdown, tests)."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._take_off(pending)
        if not pending:
            return
        try:
            with self.engine.begin() as connection:
                written = {k: count_hit(connection, key=k[0], window=k[1], hits=n) for k, n in pending.items()}
        except BaseException:
            self._restore_pending(pending, landed=pending)
            raise
        with self._lock:
            self._land(pending)
            self._update_synced(written)

    def _restore_pending(
        self, pending: Mapping[tuple[str, datetime], int], landed: Mapping[tuple[str, datetime], int] | None = None
    ) -> None:
        with self._lock:
            self._land(landed or {})
            for k, n in pending.items():
                if n:
                    self._pending[k] = self._pending.get(k, 0) + n

    def _record_sync(
        self,
        *,
        key: str,
        window: datetime,
        current: int,
        previous: int,
        written: Mapping[tuple[str, datetime], int],
        landed: Mapping[tuple[str, datetime], int],
    ) -> None:
        clock = self.monotonic()
        with self._lock:
            self._land(landed)
            if len(self._synced) >= self.max_remembered_blocks:
                self._synced.clear()  # bounded memory: those keys ask the database on their next hit
            known = self._synced.get(key)
            if known is not None and known.window == window and known.current > current:
                current = known.current  # a concurrent hit of this key already read back a later count
            self._synced[key] = _Synced(window=window, current=current, previous=previous, at=clock)
            self._update_synced(written)
            if not self._pending:
                self._next_flush = clock + self.flush_interval

    def _take_off(self, hits: Mapping[tuple[str, datetime], int]) -> None:
        for (key, _window), n in hits.items():
            self._in_flight[key] = self._in_flight.get(key, 0) + n

    def _land(self, hits: Mapping[tuple[str, datetime], int]) -> None:
        for (key, _window), n in hits.items():
            left = self._in_flight.get(key, 0) - n
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)

    def _update_synced(self, written: Mapping[tuple[str, datetime], int]) -> None:
        for (k, window), count in written.items():
            synced = self._synced.get(k)
            if synced is not None and synced.window == window:
                synced.current = max(synced.current, count)

    def _remember_block(self, key: str, until: datetime) -> None:
        if len(self._blocked_until) >= self.max_remembered_blocks:
            self._blocked_until.clear()  # bounded memory; the database still holds the truth
        self._blocked_until[key] = until

    def _prune_if_due(self, now: datetime) -> None:
        with self._prune_lock:
            if self._next_prune is not None and now < self._next_prune:
                return
            self._next_prune = now + self.prune_interval
        with self.engine.begin() as connection:
            prune_counters(connection, older_than=now - self.retention)

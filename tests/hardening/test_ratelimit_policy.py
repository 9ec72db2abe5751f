"""The pure parts of the rate limiter: which bucket, which client, how long to wait."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from widget_api.ratelimit.errors import InvalidTrustedProxy
from widget_api.ratelimit.limiter import (
    BOOKINGS,
    EVENTS,
    READS,
    bucket_for,
    client_address,
    client_key,
    estimated_count,
    parse_networks,
    retry_after_seconds,
)


@pytest.mark.parametrize(
    ("method", "path", "bucket"),
    [
        ("POST", "/api/v1/links/abc/bookings", BOOKINGS),
        ("POST", "/api/v1/bookings/tok/cancel", BOOKINGS),
        ("POST", "/api/v1/bookings/tok/reschedule", BOOKINGS),
        ("POST", "/manage/tok/cancel", BOOKINGS),
        ("POST", "/api/v1/events", EVENTS),
        ("GET", "/api/v1/links/abc", READS),
        ("GET", "/api/v1/links/abc/slots", READS),
        ("HEAD", "/api/v1/bookings/tok/ics", READS),
        ("GET", "/b/abc", READS),
        ("GET", "/manage/tok", READS),
        ("OPTIONS", "/api/v1/links/abc/bookings", None),
        ("GET", "/api/v1/admin/agents", None),
        ("POST", "/api/v1/admin/agents", None),
        ("GET", "/widget.js", None),
        ("GET", "/healthz", None),
        ("GET", "/docs", None),
    ],
)
def test_bucket_for(method: str, path: str, bucket: str | None) -> None:
    assert bucket_for(method, path) == bucket


def test_client_address_believes_only_hops_added_by_trusted_proxies() -> None:
    proxies = parse_networks("10.0.0.0/8, 2001:db8:ffff::1")
    assert client_address("203.0.113.1", ["198.51.100.1"], proxies) == "203.0.113.1"
    assert client_address("10.0.0.2", ["6.6.6.6, 198.51.100.1"], proxies) == "198.51.100.1"
    assert client_address("10.0.0.2", ["198.51.100.1, 10.0.0.9"], proxies) == "198.51.100.1"  # two proxies
    assert client_address("2001:db8:ffff::1", ["198.51.100.1"], proxies) == "198.51.100.1"
    assert client_address("10.0.0.2", [], proxies) == "10.0.0.2"
    assert client_address("10.0.0.2", ["not-an-ip"], proxies) == "10.0.0.2"
    assert client_address("10.0.0.2", ["198.51.100.1"], ()) == "10.0.0.2"
    assert client_address(None, ["198.51.100.1"], proxies) == "unknown"


def test_client_key_groups_ipv6_by_64_and_unwraps_mapped_ipv4() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:198.51.100.4") == "198.51.100.4"
    assert client_key("198.51.100.4") == "198.51.100.4"
    assert client_key("testclient") == "testclient"


def test_trusted_proxy_setting_refuses_garbage() -> None:
    with pytest.raises(InvalidTrustedProxy):
        parse_networks("10.0.0.1, proxy.internal")


def _estimate_for_one_more(*, previous: int, current: int, elapsed: float, after: float, window: int) -> float:
    """An independent statement of the rule: the estimate a request sent `after` seconds later sees."""
    at = elapsed + after
    if at < window:
        return previous * (1 - at / window) + current + 1
    if at < 2 * window:
        return current * (1 - (at - window) / window) + 1
    return 1.0


@given(
    previous=st.integers(0, 2000),
    current=st.integers(1, 2000),
    elapsed=st.floats(0, 59.999),
    limit=st.integers(1, 500),
)
def test_retry_after_is_the_first_whole_second_that_would_be_allowed(
    previous: int, current: int, elapsed: float, limit: int
) -> None:
    if estimated_count(previous=previous, current=current, elapsed=elapsed, window_seconds=60) <= limit:
        return  # allowed: no Retry-After to give
    wait = retry_after_seconds(previous=previous, current=current, elapsed=elapsed, window_seconds=60, limit=limit)
    assert wait >= 1
    assert _estimate_for_one_more(previous=previous, current=current, elapsed=elapsed, after=wait, window=60) <= (
        limit + 1e-9
    )
    if wait > 1:
        assert (
            _estimate_for_one_more(previous=previous, current=current, elapsed=elapsed, after=wait - 1, window=60)
            > limit
        )

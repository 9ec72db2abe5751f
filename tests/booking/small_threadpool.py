"""The real app with a thread pool of 6 instead of 40, for tests/booking/test_contention.py.

A small pool makes "every thread waits for the lock that a request holding no thread must release"
happen with a few dozen requests instead of only now and then with hundreds on a loaded machine.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from widget_api.app import app_factory as real_factory

THREADS = 6


def app_factory() -> Any:
    app = real_factory()
    configured = False

    async def small_pool_app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal configured
        if not configured:  # the limiter belongs to the running event loop: set it on the first call
            anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
            configured = True
        await app(scope, receive, send)

    return small_pool_app

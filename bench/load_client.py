"""A cheap HTTP/1.1 load client for the booking benchmarks: POSTs over keep-alive connections from
one asyncio loop, no HTTP library in between.

bench.bookings used httpx on 32 threads; on this 2-core machine that client took a large share of
the CPU the API processes were being measured on (one GIL, a thread switch per request, httpx's
own parsing), so the rate said as much about the client as about the server. This client spends
a few tens of microseconds per request. It understands exactly what uvicorn sends back: a status
line, headers with a Content-Length, a body.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlsplit

# (path, JSON body) of one request.
Post = tuple[str, dict[str, object]]


def _request_bytes(host: str, path: str, body: dict[str, object]) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _post_all(base_url: str, requests: Sequence[Post], connections: int) -> tuple[Counter[int], float]:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    wire = [_request_bytes(parts.netloc, path, body) for path, body in requests]  # built before the clock
    statuses: Counter[int] = Counter()
    next_index = 0

    async def connection() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_index < len(wire):
                request = wire[next_index]
                next_index += 1
                writer.write(request)
                statuses[await _read_response(reader)] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(min(connections, len(wire)))))
    return statuses, time.perf_counter() - started


def post_all(base_url: str, requests: Sequence[Post], *, connections: int) -> tuple[Counter[int], float]:
    """Send every request over `connections` keep-alive connections (each sends its next request when
    the answer to the last one is in); the status counts and the wall seconds it took."""
    return asyncio.run(_post_all(base_url, requests, connections))

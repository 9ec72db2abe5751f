"""A real API server process (uvicorn on a loopback port) for tests that need true concurrency."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


APP_FACTORY = "widget_api.app:app_factory"


def _start_api(
    database_url: str, *, workers: int, extra_env: dict[str, str] | None, factory: str = APP_FACTORY
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEETINGS_BASE_URL": base_url,
        "MEETINGS_ENV": "test",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    return subprocess.Popen(command, env=env), base_url


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_api(
    database_url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None, factory: str = APP_FACTORY
) -> Iterator[str]:
    """Start `uvicorn widget_api.app:app_factory` (or another app `factory`) on 127.0.0.1 and yield its
    base URL.

    The port is chosen free but only taken when uvicorn binds it, so another program can win it in
    between: a server that exits at start is started again on another port (three tries).
    """
    for attempt in range(3):
        process, base_url = _start_api(database_url, workers=workers, extra_env=extra_env, factory=factory)
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            _stop(process)
            if attempt == 2 or time.monotonic() >= deadline:
                raise RuntimeError("the API server did not start")
            continue
        break
    try:
        yield base_url
    finally:
        _stop(process)

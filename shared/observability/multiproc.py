"""prometheus-client's multiprocess mode for `meetings serve --workers N`.

Kept apart from shared.observability.metrics on purpose: prometheus-client chooses where it keeps
values (memory or files) when it is first imported, so the directory must be set before that import.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(environ: MutableMapping[str, str] | None = None) -> tuple[str, bool]:
    """Make `PROMETHEUS_MULTIPROC_DIR` ready for a new set of API processes; returns (dir, created).

    A given directory is emptied of the previous run's files (their counters would be added to this
    run's and their dead processes' gauges kept); without one a temporary directory is made, and
    `created` tells the caller to remove it at exit (`remove_multiprocess_dir`).
    """
    environ = os.environ if environ is None else environ
    given = environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return str(path), False
    made = tempfile.mkdtemp(prefix="meetings-metrics-")
    environ[MULTIPROC_ENV] = made
    return made, True


def remove_multiprocess_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)

"""`python -m tests.outbox.worker_process`: a real worker process running the test job kinds.

Configured like the product's worker, from the environment (DATABASE_URL, MEETINGS_WORKER_*).
`--ready FILE` is touched once the worker is set up; `--go FILE` makes it wait for that file first,
so several processes start claiming at the same moment.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from shared.outbox.worker import run_worker
from shared.settings import Settings
from tests.outbox.job_kinds import TEST_HANDLERS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--go", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(message)s")

    def ready() -> None:
        if args.ready is not None:
            args.ready.touch()
        deadline = time.monotonic() + 30
        while args.go is not None and not args.go.exists() and time.monotonic() < deadline:
            time.sleep(0.01)

    run_worker(Settings(), once=args.once, handlers=TEST_HANDLERS, on_ready=ready)


if __name__ == "__main__":
    main()

"""`meetings copy-data --to URL`: the terminal side of shared.datamove.copy (progress bar, summary)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from shared.datamove.copy import DEFAULT_BATCH_SIZE, CopyRefused, copy_data
from shared.db import build_engine
from shared.settings import Settings

BAR_WIDTH = 30


class ProgressBar:
    """One line per table, redrawn in place; only on a terminal (logs and pipes get the summary only)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.current: str | None = None

    def __call__(self, table: str, done: int, total: int) -> None:
        if table != self.current and self.current is not None:
            self.stream.write("\n")
        self.current = table
        share = done / total if total else 1.0
        filled = int(BAR_WIDTH * share)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r  {table:<30} [{bar}] {share:4.0%}  {done:,}/{total:,}")
        self.stream.flush()

    def close(self) -> None:
        if self.current is not None:
            self.stream.write("\n")
            self.stream.flush()


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        rest = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    return scheme + sep + rest


def run_copy_data(args: argparse.Namespace) -> int:
    settings = Settings()
    target_settings = settings.model_copy(update={"database_url": Settings(database_url=args.to).database_url})
    if target_settings.database_url == settings.database_url:
        print("meetings copy-data: --to names the DATABASE_URL itself; give another database.", file=sys.stderr)
        return 2
    source = build_engine(settings)
    target = build_engine(target_settings)
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    started = time.perf_counter()
    try:
        copied = copy_data(source, target, batch_size=args.batch_size, progress=bar)
    except CopyRefused as refusal:
        if bar is not None:
            bar.close()
        print(f"meetings copy-data: refused: {refusal}", file=sys.stderr)
        return 1
    except BaseException:
        if bar is not None:
            bar.close()
        print("meetings copy-data: failed; the target was rolled back and holds nothing.", file=sys.stderr)
        raise
    finally:
        source.dispose()
        target.dispose()
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - started
    for table in copied:
        print(f"  {table.name:<30} {table.rows:>10,} rows")
    total = sum(table.rows for table in copied)
    print(
        f"meetings copy-data: copied {total:,} rows in {len(copied)} tables "
        f"to {_redacted(target_settings.database_url)} in {elapsed:.1f} s. Point DATABASE_URL at it to run on the copy."
    )
    return 0


def add_copy_data_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    copy = commands.add_parser(
        "copy-data", help="copy every row from DATABASE_URL to an empty, migrated database at --to"
    )
    copy.add_argument("--to", required=True, metavar="URL", help="the target database (already `meetings migrate`d)")
    copy.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per INSERT batch")
    copy.add_argument("--quiet", action="store_true", help="no progress bar")
    copy.set_defaults(handler=run_copy_data)

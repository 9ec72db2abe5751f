"""Copy every row of one Meetings database into another, empty one at the same schema revision.

Generic over the schema: the tables come from `Base.metadata.sorted_tables` (parents before
children), so a table added by a later migration is copied without new code. Values travel as the
models' own column types read them (aware UTC datetimes, parsed JSON, real booleans and dates), so
SQLite ↔ PostgreSQL round trips are exact; ids are kept, and PostgreSQL sequences are moved past
the highest id copied. Everything is written in one transaction on the target: a failure half-way
leaves it as empty as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Integer, Table, func, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from shared.funnel.summary import SUMMARY_TABLES
from shared.migrate import alembic_config
from shared.models import Base

DEFAULT_BATCH_SIZE = 5000

# Called after each batch with (table name, rows copied so far in it, rows it has in all).
Progress = Callable[[str, int, int], None]


class CopyRefused(Exception):
    """The target cannot receive the copy; the message says why and what to do."""


@dataclass(frozen=True)
class TableCopied:
    name: str
    rows: int


def schema_head() -> str | None:
    """The migration head this code expects."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _revision(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if len(heads) == 1 else (",".join(heads) or None)


def copied_tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def _row_count(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def check_can_copy(source: Connection, target: Connection) -> None:
    """Refuse (CopyRefused) unless both are at this code's head and the target holds no rows."""
    head = schema_head()
    source_revision = _revision(source)
    if source_revision != head:
        raise CopyRefused(
            f"the source database is at schema revision {source_revision or 'none'}, this version expects "
            f"{head}: run `meetings migrate` on it first"
        )
    target_revision = _revision(target)
    if target_revision != head:
        raise CopyRefused(
            f"the target database is at schema revision {target_revision or 'none (not migrated)'}, not {head}: "
            f"run `DATABASE_URL=<target> meetings migrate` first"
        )
    for table in copied_tables():
        if target.scalar(select(table).limit(1)) is not None:
            raise CopyRefused(
                f"the target database holds data (table {table.name} has rows): copy-data only fills an empty "
                "database; create a new one and migrate it"
            )


def _batches(source: Connection, table: Table, batch_size: int) -> Iterator[list[dict[str, object]]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = source.execution_options(yield_per=batch_size).execute(select(table).order_by(*order))
    for partition in result.mappings().partitions(batch_size):
        yield [dict(row) for row in partition]


def _move_sequences(target: Connection, table: Table) -> None:
    """PostgreSQL: the next id a table hands out comes after the highest id copied."""
    for column in table.primary_key.columns:
        if not (isinstance(column.type, Integer) and column.autoincrement in (True, "auto")):
            continue
        sequence = target.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name})
        if sequence is None:
            continue
        highest = target.scalar(select(func.max(column)))
        if highest is not None:
            target.execute(text("SELECT setval(:s, :v, true)"), {"s": sequence, "v": highest})


@contextmanager
def _source_snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read of the source: REPEATABLE READ on PostgreSQL, one read transaction on SQLite."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


def copy_data(
    source: Engine,
    target: Engine,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> list[TableCopied]:
    """Copy every table from `source` into the empty, migrated `target`, in one target transaction.

    Refuses with CopyRefused (nothing written) when the target is unreachable, at another schema
    revision or not empty. An exception raised while copying (including one raised by `progress`)
    rolls the target back to empty and propagates.
    """
    try:
        target_connection = target.connect()
    except (DBAPIError, SQLAlchemyError) as error:
        raise CopyRefused(f"cannot reach the target database: {error.__class__.__name__}: {error}") from error
    with _source_snapshot(source) as reader, target_connection as writer, writer.begin():
        check_can_copy(reader, writer)
        if writer.dialect.name == "sqlite":
            # Foreign keys are checked at commit, so rows of cyclic or self-referencing tables
            # may arrive in any order. (PostgreSQL: sorted_tables order; the schema has no cycle.)
            writer.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        copied: list[TableCopied] = []
        for table in copied_tables():
            if table.name in SUMMARY_TABLES and reader.dialect.name != "postgresql":
                # Only PostgreSQL keeps the funnel's per-day summary up to date (shared.funnel.summary);
                # one held elsewhere may be stale, so none is copied and the target computes its own.
                copied.append(TableCopied(name=table.name, rows=0))
                continue
            total = _row_count(reader, table)
            done = 0
            if progress is not None:
                progress(table.name, 0, total)
            for batch in _batches(reader, table, batch_size):
                writer.execute(table.insert(), batch)
                done += len(batch)
                if progress is not None:
                    progress(table.name, done, total)
            if writer.dialect.name == "postgresql":
                _move_sequences(writer, table)
            copied.append(TableCopied(name=table.name, rows=done))
    return copied

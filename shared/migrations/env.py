from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from shared.db import build_engine
from shared.models import Base
from shared.settings import Settings

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = build_engine(Settings(database_url=url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


run_migrations_online()

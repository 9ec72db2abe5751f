"""reminders and languages: meeting_types.reminder_minutes, bookings.locale, agents.locale, and the
partial indexes the worker's claim reads

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:30:00

Existing meeting types get no reminders (`[]`); new ones get the model's default. Existing bookings
and agents speak English.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE ADD / DROP COLUMN and CREATE / DROP INDEX on both databases, never batch mode:
# on SQLite a batch rebuild drops the old table, and with foreign keys on that sets the ids of every
# row pointing at it to NULL (as 0004 explains).
def upgrade() -> None:
    op.add_column('meeting_types', sa.Column('reminder_minutes', sa.JSON(), server_default='[]', nullable=False))
    op.add_column('bookings', sa.Column('locale', sa.String(length=8), server_default='en', nullable=False))
    op.add_column('agents', sa.Column('locale', sa.String(length=8), server_default='en', nullable=False))
    op.create_index(
        'ix_outbox_jobs_pending_due',
        'outbox_jobs',
        ['next_attempt_at', 'id'],
        unique=False,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        'ix_outbox_jobs_running_lease',
        'outbox_jobs',
        ['locked_until'],
        unique=False,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_index('ix_outbox_jobs_running_lease', table_name='outbox_jobs')
    op.drop_index('ix_outbox_jobs_pending_due', table_name='outbox_jobs')
    op.drop_column('agents', 'locale')
    op.drop_column('bookings', 'locale')
    op.drop_column('meeting_types', 'reminder_minutes')

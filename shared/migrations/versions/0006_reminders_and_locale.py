"""reminders and languages: meeting_types.reminder_minutes, bookings.locale, agents.locale, and the
partial indexes the worker's claim reads

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-01 18:30:00

Existing meeting types get no reminders (`[]`); new ones get the model's default. Existing bookings
and agents speak English.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('meeting_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_minutes', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), server_default='en', nullable=False))
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), server_default='en', nullable=False))
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_outbox_jobs_pending_due',
            ['next_attempt_at', 'id'],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            'ix_outbox_jobs_running_lease',
            ['locked_until'],
            unique=False,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_jobs_running_lease')
        batch_op.drop_index('ix_outbox_jobs_pending_due')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('meeting_types', schema=None) as batch_op:
        batch_op.drop_column('reminder_minutes')

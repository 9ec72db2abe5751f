"""booking rules: per meeting type notice, buffers and daily maximum; the agent's change cut-off

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# NULL in each: the meeting type uses the agent's setting (SPEC §5, rules per meeting type).
MEETING_TYPE_RULES = ("min_notice_minutes", "buffer_before_minutes", "buffer_after_minutes", "max_per_day")


def upgrade() -> None:
    with op.batch_alter_table('meeting_types', schema=None) as batch_op:
        for name in MEETING_TYPE_RULES:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
    with op.batch_alter_table('availabilities', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('change_cutoff_minutes', sa.Integer(), nullable=False, server_default=sa.text('0'))
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35 has it), not a batch: a batch rebuilds the table on SQLite,
    # and dropping meeting_types with foreign keys on would null every events.meeting_type_id
    # (ON DELETE SET NULL) on the way down.
    op.drop_column('availabilities', 'change_cutoff_minutes')
    for name in reversed(MEETING_TYPE_RULES):
        op.drop_column('meeting_types', name)

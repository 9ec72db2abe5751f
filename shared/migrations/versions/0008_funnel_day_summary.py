"""funnel per-day summary: funnel_day_counts, funnel_day_gaps, funnel_dirty_days, funnel_summary_state,
and the gap-bucket expression indexes on funnel_sessions (PostgreSQL)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 02:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of shared.models.funnel_buckets as of this revision (a migration must not change when the
# application code does later; tests/funnel/test_summary.py checks the two agree).
_FACTOR = '92.33248261689366'  # 64 buckets per doubling of 1 + the gap: 64 / ln 2
_PAIRS = ((1, 'step1_at', 'step2_at'), (2, 'step2_at', 'step3_at'), (3, 'step3_at', 'step4_at'))


def _gap(earlier: str, later: str) -> str:
    return f"date_part('epoch', {later} - {earlier})"


def _bucket(earlier: str, later: str) -> str:
    return f'CAST(floor(ln(1 + {_gap(earlier, later)}) * CAST({_FACTOR} AS double precision)) AS integer)'


def upgrade() -> None:
    op.create_table('funnel_day_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('top_step', sa.SmallInteger(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'top_step', name=op.f('pk_funnel_day_counts'))
    )
    op.create_table('funnel_day_gaps',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('pair', sa.SmallInteger(), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'pair', 'bucket', name=op.f('pk_funnel_day_gaps'))
    )
    op.create_table('funnel_dirty_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_funnel_dirty_days'))
    )
    # No row yet: the first refresh inserts it (a migrated database stays empty for copy-data).
    op.create_table('funnel_summary_state',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('summarized_through', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funnel_summary_state'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        for pair, earlier, later in _PAIRS:
            op.create_index(
                f'ix_funnel_sessions_gap_bucket_{pair}',
                'funnel_sessions',
                [sa.text(_bucket(earlier, later)), sa.text(_gap(earlier, later))],
                unique=False,
                postgresql_where=sa.text(f'{later} >= {earlier}'),
                # The columns the bucket reads need, so they are index-only scans (an expression
                # index alone makes PostgreSQL fetch each row from the table: 30 times slower at 100×).
                postgresql_include=['first_at', earlier, later],
            )
        # Statistics of the new index expressions, so the planner knows a bucket is a small part.
        op.execute('ANALYZE funnel_sessions')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for pair, _, _ in _PAIRS:
            op.drop_index(f'ix_funnel_sessions_gap_bucket_{pair}', table_name='funnel_sessions')
    op.drop_table('funnel_summary_state')
    op.drop_table('funnel_dirty_days')
    op.drop_table('funnel_day_gaps')
    op.drop_table('funnel_day_counts')

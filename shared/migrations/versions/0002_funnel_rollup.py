"""funnel rollup: one row per booking session, backfilled from the events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 06:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of shared.funnel.rollup's rebuild SQL as of this revision (a migration must not
# change when the application code does later).
STEPS = ("calendar_1st_step", "calendar_2nd_step", "calendar_3rd_step", "calendar_4th_step_submit")
STEP_NAMES = ", ".join(f"'{name}'" for name in STEPS)
LEVEL = " ".join(f"WHEN '{name}' THEN {index}" for index, name in enumerate(STEPS, start=1))
FIRSTS = ", ".join(
    f"MIN(CASE WHEN e.name = '{name}' THEN e.occurred_at END) AS step{index}_at"
    for index, name in enumerate(STEPS, start=1)
)
BACKFILL_SESSIONS = f"""
INSERT INTO funnel_sessions
    (session_id, agent_id, first_at, first_day, top_step, step1_at, step2_at, step3_at, step4_at)
SELECT g.session_id, a.agent_id, g.first_at, {{first_day}}, g.top_step, g.step1_at, g.step2_at, g.step3_at, g.step4_at
FROM (
    SELECT e.session_id,
           MIN(CASE WHEN e.agent_id IS NOT NULL THEN e.id END) AS agent_event_id,
           MIN(e.occurred_at) AS first_at,
           MAX(CASE e.name {LEVEL} END) AS top_step,
           {FIRSTS}
    FROM events e
    WHERE e.name IN ({STEP_NAMES}) AND e.session_id IS NOT NULL
    GROUP BY e.session_id
) g
LEFT JOIN events a ON a.id = g.agent_event_id
"""
FIRST_DAY = {"postgresql": "CAST(g.first_at AT TIME ZONE 'UTC' AS DATE)", "sqlite": "date(g.first_at)"}
BACKFILL_MEETING_TYPES = f"""
INSERT INTO funnel_session_meeting_types (session_id, meeting_type_id)
SELECT DISTINCT e.session_id, e.meeting_type_id
FROM events e
WHERE e.name IN ({STEP_NAMES}) AND e.session_id IS NOT NULL AND e.meeting_type_id IS NOT NULL
"""


def upgrade() -> None:
    op.create_table('funnel_sessions',
    sa.Column('session_id', sa.String(length=100), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('first_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('top_step', sa.SmallInteger(), nullable=False),
    sa.Column('step1_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('step2_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('step3_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('step4_at', shared.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(
        ['agent_id'], ['agents.id'], name=op.f('fk_funnel_sessions_agent_id_agents'), ondelete='SET NULL'
    ),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_funnel_sessions'))
    )
    with op.batch_alter_table('funnel_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_funnel_sessions_agent_id_first_at', ['agent_id', 'first_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_funnel_sessions_first_at'), ['first_at'], unique=False)

    op.create_table('funnel_session_meeting_types',
    sa.Column('session_id', sa.String(length=100), nullable=False),
    sa.Column('meeting_type_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(
        ['meeting_type_id'], ['meeting_types.id'],
        name=op.f('fk_funnel_session_meeting_types_meeting_type_id_meeting_types'), ondelete='CASCADE',
    ),
    sa.ForeignKeyConstraint(
        ['session_id'], ['funnel_sessions.session_id'],
        name=op.f('fk_funnel_session_meeting_types_session_id_funnel_sessions'), ondelete='CASCADE',
    ),
    sa.PrimaryKeyConstraint('session_id', 'meeting_type_id', name=op.f('pk_funnel_session_meeting_types'))
    )
    with op.batch_alter_table('funnel_session_meeting_types', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_funnel_session_meeting_types_meeting_type_id'), ['meeting_type_id'], unique=False
        )

    op.execute(BACKFILL_SESSIONS.format(first_day=FIRST_DAY[op.get_bind().dialect.name]))
    op.execute(BACKFILL_MEETING_TYPES)


def downgrade() -> None:
    with op.batch_alter_table('funnel_session_meeting_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funnel_session_meeting_types_meeting_type_id'))
    op.drop_table('funnel_session_meeting_types')
    with op.batch_alter_table('funnel_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funnel_sessions_first_at'))
        batch_op.drop_index('ix_funnel_sessions_agent_id_first_at')
    op.drop_table('funnel_sessions')

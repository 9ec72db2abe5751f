"""team links: teams, their members, team meeting types (meeting_types.team_id, agent_id nullable,
exactly one owner), bookings.team_id, the other members of a collective booking (booking_hosts),
events.team_id and funnel_sessions.team_id

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:30:00
"""
import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_OWNER = '(agent_id IS NULL) <> (team_id IS NULL)'


def _sqlite_edit_table(table: str, edit: Callable[[str], str]) -> None:
    """Change a SQLite table's definition in place, without rebuilding the table.

    A batch rebuild drops the old table, and with foreign keys on that cascades into every row
    pointing at it (bookings, events, funnel rows point at meeting types), as 0004 explains; foreign
    keys cannot be switched off inside the migration's transaction. The changes made here (dropping
    a NOT NULL, adding a CHECK or a FOREIGN KEY that every stored row meets: the new columns are all
    NULL, every type has an agent) change no stored byte, which is the case SQLite documents for
    editing the definition in sqlite_schema (writable_schema, then a new schema_version so every
    connection re-reads it).
    """
    bind = op.get_bind()
    query = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name")
    sql = bind.execute(query, {'name': table}).scalar_one()
    new_sql = edit(sql)
    version = bind.execute(sa.text('PRAGMA schema_version')).scalar_one()
    bind.execute(sa.text('PRAGMA writable_schema = ON'))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"), {'sql': new_sql, 'name': table})
    bind.execute(sa.text(f'PRAGMA schema_version = {int(version) + 1}'))
    bind.execute(sa.text('PRAGMA writable_schema = OFF'))


def _append_constraint(constraint: str) -> Callable[[str], str]:
    return lambda sql: sql.rstrip().removesuffix(')').rstrip() + f',\n\t{constraint}\n)'


def _remove_constraint(constraint: str) -> Callable[[str], str]:
    return lambda sql: sql.replace(f',\n\t{constraint}', '')


def _fk(table: str, column: str, ondelete: str) -> str:
    return f'CONSTRAINT fk_{table}_{column}_teams FOREIGN KEY({column}) REFERENCES teams (id) ON DELETE {ondelete}'


def _add_team_column(table: str, *, ondelete: str) -> None:
    """A nullable team_id referring to teams.id (SQLite has no ADD CONSTRAINT: see _sqlite_edit_table)."""
    op.add_column(table, sa.Column('team_id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_edit_table(table, _append_constraint(_fk(table, 'team_id', ondelete)))
    else:
        op.create_foreign_key(f'fk_{table}_team_id_teams', table, 'teams', ['team_id'], ['id'], ondelete=ondelete)


def _drop_team_column(table: str, *, ondelete: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_edit_table(table, _remove_constraint(_fk(table, 'team_id', ondelete)))
    else:
        op.drop_constraint(f'fk_{table}_team_id_teams', table, type_='foreignkey')
    op.drop_column(table, 'team_id')


def _agent_id_nullable(sql: str) -> str:
    new_sql, count = re.subn(r'(\bagent_id INTEGER) NOT NULL', r'\1', sql, count=1)
    if count != 1:
        raise RuntimeError(f'meeting_types.agent_id is not as 0001 created it: {sql}')
    return new_sql


def _agent_id_required(sql: str) -> str:
    return re.sub(r'(\bagent_id INTEGER)(?! NOT NULL)', r'\1 NOT NULL', sql, count=1)


ONE_OWNER_CHECK = f'CONSTRAINT ck_meeting_types_one_owner CHECK ({ONE_OWNER})'
TEAM_COLUMNS = (('meeting_types', 'CASCADE'), ('bookings', 'SET NULL'), ('events', 'SET NULL'), ('funnel_sessions', 'SET NULL'))


def upgrade() -> None:
    op.create_table(
        'teams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('link', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
        sa.UniqueConstraint('link', name=op.f('uq_teams_link')),
    )
    op.create_table(
        'team_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_team_members_agent_id_agents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_members')),
        sa.UniqueConstraint('team_id', 'agent_id', name='uq_team_members_team_agent'),
    )
    op.create_index(op.f('ix_team_members_agent_id'), 'team_members', ['agent_id'], unique=False)
    op.create_table(
        'booking_hosts',
        sa.Column('booking_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('provider_event_id', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_booking_hosts_agent_id_agents'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_hosts_booking_id_bookings'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('booking_id', 'agent_id', name=op.f('pk_booking_hosts')),
    )
    op.create_index('ix_booking_hosts_agent_id_booking_id', 'booking_hosts', ['agent_id', 'booking_id'], unique=False)

    for table, ondelete in TEAM_COLUMNS:
        _add_team_column(table, ondelete=ondelete)
    op.create_index(op.f('ix_meeting_types_team_id'), 'meeting_types', ['team_id'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_edit_table('meeting_types', lambda sql: _append_constraint(ONE_OWNER_CHECK)(_agent_id_nullable(sql)))
    else:
        op.alter_column('meeting_types', 'agent_id', existing_type=sa.Integer(), nullable=True)
        op.create_check_constraint('one_owner', 'meeting_types', ONE_OWNER)

    op.create_index(op.f('ix_bookings_team_id'), 'bookings', ['team_id'], unique=False)
    op.create_index('uq_bookings_team_idempotency_key', 'bookings', ['team_id', 'idempotency_key'], unique=True)
    op.create_index('ix_funnel_sessions_team_id_first_at', 'funnel_sessions', ['team_id', 'first_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_funnel_sessions_team_id_first_at', table_name='funnel_sessions')
    op.drop_index('uq_bookings_team_idempotency_key', table_name='bookings')
    op.drop_index(op.f('ix_bookings_team_id'), table_name='bookings')
    op.execute('DELETE FROM meeting_types WHERE agent_id IS NULL')
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_edit_table('meeting_types', lambda sql: _agent_id_required(_remove_constraint(ONE_OWNER_CHECK)(sql)))
    else:
        op.drop_constraint('one_owner', 'meeting_types', type_='check')
        op.alter_column('meeting_types', 'agent_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f('ix_meeting_types_team_id'), table_name='meeting_types')
    for table, ondelete in reversed(TEAM_COLUMNS):
        _drop_team_column(table, ondelete=ondelete)
    op.drop_index('ix_booking_hosts_agent_id_booking_id', table_name='booking_hosts')
    op.drop_table('booking_hosts')
    op.drop_index(op.f('ix_team_members_agent_id'), table_name='team_members')
    op.drop_table('team_members')
    op.drop_table('teams')

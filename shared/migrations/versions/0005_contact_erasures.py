"""contact erasures: a record of each erasure (when, by whom), no personal data

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 17:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.models.base

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'contact_erasures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('erased_at', shared.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('erased_by', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('bookings_cancelled', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_erasures')),
        sa.UniqueConstraint('contact_id', name=op.f('uq_contact_erasures_contact_id')),
    )


def downgrade() -> None:
    op.drop_table('contact_erasures')

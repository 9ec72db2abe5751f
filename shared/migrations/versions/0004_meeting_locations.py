"""meeting locations: where a call happens (meeting types), and on each booking the place, the join
link and the invitee's phone

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing types get `none`: nothing changes for their invitees until an admin sets a location.
    with op.batch_alter_table('meeting_types') as batch:
        batch.add_column(sa.Column('location_kind', sa.String(length=16), server_default='none', nullable=False))
        batch.add_column(sa.Column('location_value', sa.String(length=2000), nullable=True))
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('location_kind', sa.String(length=16), server_default='none', nullable=False))
        batch.add_column(sa.Column('location_value', sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column('join_url', sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column('phone', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('phone')
        batch.drop_column('join_url')
        batch.drop_column('location_value')
        batch.drop_column('location_kind')
    with op.batch_alter_table('meeting_types') as batch:
        batch.drop_column('location_value')
        batch.drop_column('location_kind')

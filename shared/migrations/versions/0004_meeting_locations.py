"""meeting locations: where a call happens (meeting types), and on each booking the place, the join
link and the invitee's phone

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE ADD / DROP COLUMN on both databases (SQLite has DROP COLUMN since 3.35), never
# batch mode: on SQLite a batch rebuild drops the old table, and with foreign keys on that sets the
# meeting_type_id / booking_id of every row pointing at it to NULL (events, outbox jobs).
def upgrade() -> None:
    # Existing types get `none`: nothing changes for their invitees until an admin sets a location.
    op.add_column('meeting_types', sa.Column('location_kind', sa.String(length=16), server_default='none', nullable=False))
    op.add_column('meeting_types', sa.Column('location_value', sa.String(length=2000), nullable=True))
    op.add_column('bookings', sa.Column('location_kind', sa.String(length=16), server_default='none', nullable=False))
    op.add_column('bookings', sa.Column('location_value', sa.String(length=2000), nullable=True))
    op.add_column('bookings', sa.Column('join_url', sa.String(length=2000), nullable=True))
    op.add_column('bookings', sa.Column('phone', sa.String(length=32), nullable=True))


def downgrade() -> None:
    for column in ('phone', 'join_url', 'location_value', 'location_kind'):
        op.drop_column('bookings', column)
    for column in ('location_value', 'location_kind'):
        op.drop_column('meeting_types', column)

"""login_failures: an index on at alone, so pruning rows older than a day is a range, not a scan
(the throttle now also counts per account and address, per known browser and sign-up checks)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:30:00
"""
from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_at')

"""outbox_messages: retries on a schedule (next_attempt_at), given up (failed_at), and the sender's claim.

Messages not sent yet become due now, or failed if the old code had already given them up.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_outbox_messages_next_attempt_at', ['next_attempt_at'])
    op.execute("UPDATE outbox_messages SET next_attempt_at = created_at WHERE sent_at IS NULL AND attempts < 5")
    op.execute("UPDATE outbox_messages SET failed_at = created_at WHERE sent_at IS NULL AND attempts >= 5")


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_next_attempt_at')
        batch_op.drop_column('claim_token')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('next_attempt_at')

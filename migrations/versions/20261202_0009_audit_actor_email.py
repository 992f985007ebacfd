"""audit_events: the actor's email as it was when they acted (the log no longer reads users)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 06:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_email', sa.String(length=320), nullable=False, server_default=''))
        batch_op.create_index('ix_audit_events_actor_email', ['actor_email'], unique=False)
    op.execute("UPDATE audit_events SET actor_email = COALESCE("
               "(SELECT users.email FROM users WHERE users.id = audit_events.actor_id), '')")


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_actor_email')
        batch_op.drop_column('actor_email')

"""submissions.sent_form: the answer form's one-time token with what it carried, unique per user,
so the same form sent twice makes one submission.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_form', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_submissions_user_sent_form', ['user_id', 'sent_form'])


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_submissions_user_sent_form', type_='unique')
        batch_op.drop_column('sent_form')

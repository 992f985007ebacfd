"""question_revisions.docs and .api: a question's "Read more" links and the APIs it relies on.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('question_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('docs', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('api', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('question_revisions', schema=None) as batch_op:
        batch_op.drop_column('api')
        batch_op.drop_column('docs')

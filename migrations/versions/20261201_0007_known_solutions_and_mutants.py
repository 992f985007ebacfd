"""code questions: known-correct solutions and equivalent mutants

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('question_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correct_solutions', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('equivalent_mutants', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('question_revisions', schema=None) as batch_op:
        batch_op.drop_column('equivalent_mutants')
        batch_op.drop_column('correct_solutions')

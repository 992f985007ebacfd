"""submissions: provisional (the grader was unsure), first in the review queue; reviews: the
grader's verdicts and score as the interviewer saw them, for grader calibration

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provisional', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grader_verdicts', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('grader_score', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('grader_score')
        batch_op.drop_column('grader_verdicts')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('provisional')
